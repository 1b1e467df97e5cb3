namespace Offhost.Catalog;

/// <summary>One tape file on a medium: its number (0 = first file after BOT), kind, size in records and bytes,
/// and the backup it belongs to (null for the volume label).</summary>
public sealed record TapeFileRecord(string MediaLabel, int FileNumber, TapeFileKind Kind, long Records, long Bytes, string? BackupId);
