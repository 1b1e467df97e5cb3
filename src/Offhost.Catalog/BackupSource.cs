namespace Offhost.Catalog;

/// <summary>One volume of a backup: the device or image path it came from and the file system found on it (<c>ntfs</c>,
/// <c>ext4</c>, …). A backup of a whole disk has one source per file system, in volume order.</summary>
public sealed record BackupSource(string Path, string FileSystem)
{
    /// <summary>The paths or patterns backed up when the backup holds a file set rather than the whole volume; null for a
    /// whole volume (which a volume restore can write back).</summary>
    public IReadOnlyList<string>? FileSet { get; init; }
}
