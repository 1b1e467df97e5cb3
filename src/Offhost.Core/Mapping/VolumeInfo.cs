namespace Offhost.Core.Mapping;

/// <summary>The first record of a storage map: what was mapped and in which units.</summary>
/// <param name="FileSystem"><c>ntfs</c>, <c>ext2</c>, <c>ext3</c> or <c>ext4</c>.</param>
/// <param name="Device">Stable identity of the device that the extents address (see <see cref="Devices.IBlockSource.DeviceId"/>).</param>
/// <param name="BlockSizeBytes">The unit of every extent's <c>lba</c> and <c>blocks</c>: the device's logical block size.</param>
/// <param name="ClusterSizeBytes">The file system's allocation unit (NTFS cluster, ext block).</param>
/// <param name="PartitionOffsetBytes">Where the file system starts on the device.</param>
/// <param name="SizeBytes">Size of the file system (not of the whole device).</param>
public sealed record VolumeInfo(
    string FileSystem,
    string Device,
    int BlockSizeBytes,
    int ClusterSizeBytes,
    long PartitionOffsetBytes,
    long SizeBytes,
    string? Label,
    string? Serial)
{
    /// <summary>File-system UUID where the format has one (ext); null otherwise.</summary>
    public string? Uuid { get; init; }

    /// <summary>1-based partition number in the partition table, or null for a bare volume.</summary>
    public int? Partition { get; init; }

    /// <summary>Things the operator should know about the whole volume (e.g. journal needs recovery).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
