namespace Offhost.Catalog;

/// <summary>
/// A run of device blocks a stream was copied from. <see cref="Lba"/> and <see cref="Blocks"/> are in units of the
/// source volume's block size, counted from the start of device <see cref="DeviceIndex"/> (the backup's
/// <see cref="BackupRecord.Sources"/> index); <see cref="StreamOffsetBytes"/> is where the run starts in the stream.
/// </summary>
public readonly record struct SourceExtent(int DeviceIndex, long Lba, long Blocks, long StreamOffsetBytes);
