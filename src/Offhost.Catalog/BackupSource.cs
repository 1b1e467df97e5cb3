namespace Offhost.Catalog;

/// <summary>One source of a backup: the device or image path and the file system found on it (<c>ntfs</c>, <c>ext4</c>, …).</summary>
public sealed record BackupSource(string Path, string FileSystem);
