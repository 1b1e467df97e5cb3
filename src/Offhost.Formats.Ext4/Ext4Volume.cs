using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;

namespace Offhost.Formats.Ext4;

/// <summary>Entry points for ext2, ext3 and ext4 volumes: detection and the storage mapper. Thread-safe (stateless).</summary>
public static class Ext4Volume
{
    /// <summary>True when bytes 1024..2047 hold an ext2/3/4 superblock (magic 0xEF53 and sane sizes). Never throws.</summary>
    public static bool Probe(ReadOnlySpan<byte> first2048Bytes) => Ext4Superblock.Probe(first2048Bytes);

    /// <summary>
    /// Opens the volume in <paramref name="volume"/> (offsets relative to the partition; <c>volume.StartBytes</c> is
    /// the partition's offset on the device) for mapping. Throws <see cref="CorruptStructureException"/> when nothing
    /// can be mapped: a bad superblock, an unknown incompatible feature (named), an external journal device, or a file
    /// system block smaller than the device block.
    /// </summary>
    public static IVolumeMapper OpenMapper(SliceBlockSource volume, int? partitionNumber)
    {
        ArgumentNullException.ThrowIfNull(volume);
        long sbAt = volume.StartBytes + Ext4Superblock.OffsetBytes;
        if (volume.LengthBytes < Ext4Superblock.OffsetBytes + Ext4Superblock.Size)
            CorruptStructure.Truncated("ext4_super_block", sbAt, Ext4Superblock.OffsetBytes + Ext4Superblock.Size, volume.LengthBytes);
        var raw = new byte[Ext4Superblock.Size];
        volume.ReadAt(Ext4Superblock.OffsetBytes, raw);
        var sb = Ext4Superblock.Read(raw, sbAt, volume.LengthBytes);
        int deviceBlock = volume.LogicalBlockSize;
        CorruptStructure.Check(deviceBlock > 0 && sb.BlockSizeBytes % deviceBlock == 0 && volume.StartBytes % deviceBlock == 0,
            "ext4_super_block", sbAt, $"file-system block of {sb.BlockSizeBytes} bytes at partition offset {volume.StartBytes} cannot be addressed in device blocks of {deviceBlock} bytes");
        var groups = Ext4GroupTable.Read(volume, sb, volume.StartBytes);

        var warnings = new List<string>();
        if ((sb.Incompat & Ext4IncompatFeatures.Recover) != 0)
            warnings.Add("journal needs recovery (needs_recovery set): metadata may be behind");
        else if ((sb.State & 1) == 0)
            warnings.Add("file system was not cleanly unmounted (s_state): metadata may be inconsistent");
        if ((sb.State & 2) != 0) warnings.Add("file system has errors recorded (s_state): run e2fsck");
        if ((sb.Incompat & Ext4IncompatFeatures.Encrypt) != 0)
            warnings.Add("encrypt feature: encrypted files and names are mapped as stored (ciphertext)");
        if ((sb.RoCompat & Ext4RoCompatFeatures.OrphanPresent) != 0)
            warnings.Add("orphan inodes present: files deleted while open are not mapped");

        var info = new VolumeInfo(sb.FileSystemName, volume.DeviceId, deviceBlock, sb.BlockSizeBytes, volume.StartBytes,
            (long)sb.BlocksCount * sb.BlockSizeBytes, sb.Label, sb.UuidString)
        {
            Uuid = sb.UuidString,
            Partition = partitionNumber,
            Warnings = warnings,
        };
        return new Ext4Mapper(volume, sb, groups, info);
    }
}
