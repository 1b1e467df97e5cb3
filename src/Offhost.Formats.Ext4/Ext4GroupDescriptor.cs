using System.Buffers.Binary;
using Offhost.Core.Errors;

namespace Offhost.Formats.Ext4;

/// <summary>
/// One block group descriptor (<c>struct ext4_group_desc</c>, 32 bytes, or <c>s_desc_size</c> bytes with 64bit).
/// Block numbers are file-system blocks. Immutable.
/// </summary>
public readonly record struct Ext4GroupDescriptor(ulong InodeTableBlock, ushort Flags, ushort Checksum)
{
    const int InodeTableLoAt = 0x8, FlagsAt = 0x12, ChecksumAt = 0x1E, InodeTableHiAt = 0x28;

    /// <summary><c>EXT4_BG_INODE_UNINIT</c>: the inode table was never initialised; no inode in it is in use.</summary>
    public const ushort InodeUninit = 0x1;

    /// <summary>Parses one descriptor of <paramref name="descSizeBytes"/> from <paramref name="d"/>.</summary>
    public static Ext4GroupDescriptor Read(ReadOnlySpan<byte> d, int descSizeBytes, long deviceOffset)
    {
        if (d.Length < descSizeBytes) CorruptStructure.Truncated("ext4_group_desc", deviceOffset, descSizeBytes, d.Length);
        ulong itable = BinaryPrimitives.ReadUInt32LittleEndian(d[InodeTableLoAt..]);
        if (descSizeBytes >= 64) itable |= (ulong)BinaryPrimitives.ReadUInt32LittleEndian(d[InodeTableHiAt..]) << 32;
        return new Ext4GroupDescriptor(itable, BinaryPrimitives.ReadUInt16LittleEndian(d[FlagsAt..]),
            BinaryPrimitives.ReadUInt16LittleEndian(d[ChecksumAt..]));
    }

    /// <summary>
    /// The descriptor checksum as the kernel computes it: metadata_csum (low 16 bits of CRC32C over group number
    /// and descriptor with the checksum field zeroed) or gdt_csum (CRC16 over UUID, group number and descriptor).
    /// Null when the volume has neither feature.
    /// </summary>
    public static ushort? ComputeChecksum(Ext4Superblock sb, uint group, ReadOnlySpan<byte> d)
    {
        Span<byte> le = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(le, group);
        Span<byte> zero = stackalloc byte[2];
        zero.Clear();
        int size = sb.DescSizeBytes;
        if (sb.HasMetadataCsum)
        {
            uint c = Ext4Crc.Crc32C(sb.ChecksumSeed, le);
            c = Ext4Crc.Crc32C(c, d[..ChecksumAt]);
            c = Ext4Crc.Crc32C(c, zero);
            if (size > ChecksumAt + 2) c = Ext4Crc.Crc32C(c, d[(ChecksumAt + 2)..size]);
            return (ushort)c;
        }
        if (sb.HasGdtCsum)
        {
            ushort c = Ext4Crc.Crc16(0xFFFF, sb.Uuid);
            c = Ext4Crc.Crc16(c, le);
            c = Ext4Crc.Crc16(c, d[..ChecksumAt]);
            if (sb.Has64Bit && size > ChecksumAt + 2) c = Ext4Crc.Crc16(c, d[(ChecksumAt + 2)..size]);
            return c;
        }
        return null;
    }
}
