using System.Buffers.Binary;
using Offhost.Core.Errors;

namespace Offhost.Formats.Ext4;

/// <summary>
/// One block group descriptor (<c>struct ext4_group_desc</c>, 32 bytes, or <c>s_desc_size</c> bytes with 64bit).
/// Block numbers are file-system blocks. Immutable.
/// </summary>
public readonly record struct Ext4GroupDescriptor(ulong InodeTableBlock, ushort Flags, ushort Checksum)
{
    const int BlockBitmapLoAt = 0x0, InodeBitmapLoAt = 0x4, InodeTableLoAt = 0x8, FreeBlocksLoAt = 0xC, FlagsAt = 0x12,
        BlockBitmapCsumLoAt = 0x18, ChecksumAt = 0x1E, BlockBitmapHiAt = 0x20, InodeBitmapHiAt = 0x24, InodeTableHiAt = 0x28,
        FreeBlocksHiAt = 0x2C, BlockBitmapCsumHiAt = 0x38, BlockBitmapCsumHiEnd = 0x3C;

    /// <summary><c>EXT4_BG_BLOCK_UNINIT</c>: the block bitmap was never written; the blocks in use are only the group's
    /// fixed metadata. Trusted only when the descriptor carries a checksum (uninit_bg or metadata_csum).</summary>
    public const ushort BlockUninit = 0x2;

    /// <summary><c>bg_block_bitmap</c>: the block holding this group's block (cluster) bitmap.</summary>
    public ulong BlockBitmapBlock { get; init; }
    /// <summary><c>bg_inode_bitmap</c>: the block holding this group's inode bitmap.</summary>
    public ulong InodeBitmapBlock { get; init; }
    /// <summary><c>bg_free_blocks_count</c>: free clusters in the group (blocks without bigalloc).</summary>
    public uint FreeClusters { get; init; }
    /// <summary><c>bg_block_bitmap_csum</c>: CRC32C of the block bitmap with metadata_csum; only the low 16 bits are
    /// stored in descriptors smaller than 60 bytes (<see cref="HasFullBitmapChecksum"/>).</summary>
    public uint BlockBitmapChecksum { get; init; }
    /// <summary>Whether <see cref="BlockBitmapChecksum"/> holds all 32 bits.</summary>
    public bool HasFullBitmapChecksum { get; init; }

    /// <summary><c>EXT4_BG_INODE_UNINIT</c>: the inode table was never initialised; no inode in it is in use.</summary>
    public const ushort InodeUninit = 0x1;

    /// <summary>Parses one descriptor of <paramref name="descSizeBytes"/> from <paramref name="d"/>.</summary>
    public static Ext4GroupDescriptor Read(ReadOnlySpan<byte> d, int descSizeBytes, long deviceOffset)
    {
        if (d.Length < descSizeBytes) CorruptStructure.Truncated("ext4_group_desc", deviceOffset, descSizeBytes, d.Length);
        if (descSizeBytes < 32) CorruptStructure.Throw("ext4_group_desc", deviceOffset, $"descriptor size {descSizeBytes} is below 32 bytes");
        bool wide = descSizeBytes >= 64;
        uint free = BinaryPrimitives.ReadUInt16LittleEndian(d[FreeBlocksLoAt..]);
        if (wide) free |= (uint)BinaryPrimitives.ReadUInt16LittleEndian(d[FreeBlocksHiAt..]) << 16;
        bool fullCsum = descSizeBytes >= BlockBitmapCsumHiEnd;
        uint csum = BinaryPrimitives.ReadUInt16LittleEndian(d[BlockBitmapCsumLoAt..]);
        if (fullCsum) csum |= (uint)BinaryPrimitives.ReadUInt16LittleEndian(d[BlockBitmapCsumHiAt..]) << 16;
        return new Ext4GroupDescriptor(Block(d, InodeTableLoAt, InodeTableHiAt, wide), BinaryPrimitives.ReadUInt16LittleEndian(d[FlagsAt..]),
            BinaryPrimitives.ReadUInt16LittleEndian(d[ChecksumAt..]))
        {
            BlockBitmapBlock = Block(d, BlockBitmapLoAt, BlockBitmapHiAt, wide),
            InodeBitmapBlock = Block(d, InodeBitmapLoAt, InodeBitmapHiAt, wide),
            FreeClusters = free,
            BlockBitmapChecksum = csum,
            HasFullBitmapChecksum = fullCsum,
        };
    }

    static ulong Block(ReadOnlySpan<byte> d, int lo, int hi, bool wide) => BinaryPrimitives.ReadUInt32LittleEndian(d[lo..])
        | (wide ? (ulong)BinaryPrimitives.ReadUInt32LittleEndian(d[hi..]) << 32 : 0);

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
