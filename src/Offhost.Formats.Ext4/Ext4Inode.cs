using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;

namespace Offhost.Formats.Ext4;

/// <summary>
/// One on-disk inode (<c>struct ext4_inode</c>, 128 bytes plus <c>i_extra_isize</c> of the larger inode), the fields
/// the map needs. <see cref="SizeBytes"/> is in bytes; <see cref="Block"/> is the raw 60-byte <c>i_block</c>
/// (extent root, block pointers, fast symlink or inline data). Immutable after <see cref="Read"/>.
/// </summary>
public sealed class Ext4Inode
{
    public const int GoodOldSize = 128;
    public const int BlockFieldBytes = 60;

    const int ModeAt = 0x0, UidAt = 0x2, SizeLoAt = 0x4, AtimeAt = 0x8, CtimeAt = 0xC, MtimeAt = 0x10, GidAt = 0x18,
        LinksAt = 0x1A, BlocksLoAt = 0x1C, FlagsAt = 0x20, BlockAt = 0x28, GenerationAt = 0x64, FileAclLoAt = 0x68,
        SizeHighAt = 0x6C, BlocksHighAt = 0x74, FileAclHighAt = 0x76, UidHighAt = 0x78, GidHighAt = 0x7A,
        ChecksumLoAt = 0x7C, ExtraIsizeAt = 0x80, ChecksumHiAt = 0x82, CtimeExtraAt = 0x84, MtimeExtraAt = 0x88,
        AtimeExtraAt = 0x8C, CrtimeAt = 0x90, CrtimeExtraAt = 0x94;

    public const ushort TypeMask = 0xF000, TypeFifo = 0x1000, TypeChar = 0x2000, TypeDir = 0x4000, TypeBlock = 0x6000,
        TypeRegular = 0x8000, TypeSymlink = 0xA000, TypeSocket = 0xC000;

    public const uint FlagEncrypt = 0x800, FlagIndex = 0x1000, FlagHugeFile = 0x40000, FlagExtents = 0x80000,
        FlagEaInode = 0x200000, FlagInlineData = 0x10000000;

    static readonly (uint Bit, string Name)[] FlagNames =
    [
        (0x1, "secure_delete"), (0x2, "undelete"), (0x4, "compressed"), (0x8, "sync"), (0x10, "immutable"),
        (0x20, "append"), (0x40, "nodump"), (0x80, "noatime"), (0x100, "compress_dirty"), (0x200, "compress_blocks"),
        (0x400, "nocompress"), (0x800, "encrypted"), (0x1000, "index"), (0x2000, "imagic"), (0x4000, "journal_data"),
        (0x8000, "notail"), (0x10000, "dirsync"), (0x20000, "topdir"), (0x40000, "huge_file"), (0x80000, "extents"),
        (0x100000, "verity"), (0x200000, "ea_inode"), (0x2000000, "dax"), (0x10000000, "inline_data"),
        (0x20000000, "project_inherit"), (0x40000000, "casefold"),
    ];

    public uint Number { get; private init; }
    /// <summary>Absolute byte offset of this inode on the device.</summary>
    public long DeviceOffset { get; private init; }
    public ushort Mode { get; private init; }
    public uint Uid { get; private init; }
    public uint Gid { get; private init; }
    public long SizeBytes { get; private init; }
    public ushort LinksCount { get; private init; }
    /// <summary><c>i_blocks</c> in 512-byte sectors (already scaled for huge_file inodes).</summary>
    public ulong BlocksIn512 { get; private init; }
    public uint Flags { get; private init; }
    public uint Generation { get; private init; }
    public ulong FileAclBlock { get; private init; }
    /// <summary><c>i_extra_isize</c>; 0 for 128-byte inodes.</summary>
    public int ExtraIsize { get; private init; }
    public MapTime Accessed { get; private init; }
    public MapTime Modified { get; private init; }
    public MapTime Changed { get; private init; }
    public MapTime? Created { get; private init; }
    /// <summary>The raw <c>i_block</c>, held in the object itself (one allocation per inode, not two).</summary>
    public ReadOnlySpan<byte> Block => block;
    BlockField block;   // written once, in Read
    /// <summary>The bytes after <c>128 + i_extra_isize</c> up to the inode size (the in-inode xattr area, from its magic); empty when it holds no attributes.</summary>
    public ReadOnlyMemory<byte> InlineXattrArea { get; private init; }
    /// <summary>CRC32C seed for this inode's metadata blocks (extent blocks, directory blocks).</summary>
    public uint ChecksumSeed { get; private init; }

    public int FileType => Mode & TypeMask;
    public bool IsDirectory => FileType == TypeDir;
    public bool IsRegular => FileType == TypeRegular;
    public bool IsSymlink => FileType == TypeSymlink;
    public bool HasFlag(uint flag) => (Flags & flag) != 0;

    /// <summary>For character and block device inodes, the device number the node stands for; null for other types.</summary>
    public DeviceNumber? Device => FileType is TypeChar or TypeBlock ? DecodeDevice(Block) : null;

    /// <summary>
    /// The device number a device inode keeps in <c>i_block</c>, as Linux reads it: a non-zero first word holds the old
    /// 16-bit form (major in bits 8–15, minor in bits 0–7 of its low half); otherwise the second word holds the 32-bit
    /// form (minor bits 0–7, major bits 8–19, minor bits 8–19 from bits 20–31). Any bytes decode; nothing is checked,
    /// as the kernel checks nothing.
    /// </summary>
    public static DeviceNumber DecodeDevice(ReadOnlySpan<byte> block)
    {
        if (block.Length < 8) throw new ArgumentException("i_block holds at least two 32-bit words", nameof(block));
        uint first = BinaryPrimitives.ReadUInt32LittleEndian(block);
        if (first != 0)
        {
            uint old = first & 0xFFFF;
            return new DeviceNumber(old >> 8, old & 0xFF);
        }
        uint dev = BinaryPrimitives.ReadUInt32LittleEndian(block[4..]);
        return new DeviceNumber((dev & 0xF_FF00) >> 8, (dev & 0xFF) | ((dev >> 12) & 0xF_FF00));
    }

    static bool Fits(int extra, int fieldAt) => GoodOldSize + extra >= fieldAt + 4;

    /// <summary>A time field: signed 32-bit seconds, extended by the epoch bits and nanoseconds of the extra field when the inode has it.</summary>
    static MapTime Time(ReadOnlySpan<byte> raw, int extra, int baseAt, int extraAt)
    {
        long seconds = BinaryPrimitives.ReadInt32LittleEndian(raw[baseAt..]);
        if (!Fits(extra, extraAt)) return new MapTime(seconds, 0);
        uint x = BinaryPrimitives.ReadUInt32LittleEndian(raw[extraAt..]);
        seconds += (long)(x & 3) << 32;
        int nanos = (int)(x >> 2);
        // A corrupt extra field can claim more than a second; clamp rather than emit an invalid time.
        return new MapTime(seconds, Math.Min(nanos, 999_999_999));
    }

    public IReadOnlyList<string> FlagList()
    {
        if (Flags == 0) return [];
        var list = new List<string>(2);
        foreach (var (bit, name) in FlagNames) if ((Flags & bit) != 0) list.Add(name);
        return list;
    }

    static string Name(uint number) => $"inode {number}";

    /// <summary>
    /// Parses inode <paramref name="number"/> from <paramref name="raw"/> (exactly the inode size of the volume).
    /// Verifies the metadata_csum checksum when the volume has one; throws <see cref="CorruptStructureException"/>.
    /// </summary>
    public static Ext4Inode Read(ReadOnlySpan<byte> raw, uint number, long deviceOffset, Ext4Superblock sb)
    {
        int size = sb.InodeSizeBytes;
        if (raw.Length < size) CorruptStructure.Truncated(Name(number), deviceOffset, size, raw.Length);
        raw = raw[..size];
        int extra = 0;
        if (size > GoodOldSize)
        {
            extra = BinaryPrimitives.ReadUInt16LittleEndian(raw[ExtraIsizeAt..]);
            if (extra > size - GoodOldSize || (extra & 3) != 0)
                CorruptStructure.Throw(Name(number), deviceOffset, $"i_extra_isize {extra} does not fit a {size}-byte inode");
        }
        uint generation = BinaryPrimitives.ReadUInt32LittleEndian(raw[GenerationAt..]);
        uint seed = 0;
        if (sb.HasMetadataCsum)
        {
            Span<byte> le = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(le, number);
            seed = Ext4Crc.Crc32C(sb.ChecksumSeed, le);
            BinaryPrimitives.WriteUInt32LittleEndian(le, generation);
            seed = Ext4Crc.Crc32C(seed, le);
            bool hasHi = extra >= ChecksumHiAt + 2 - GoodOldSize;
            Span<byte> zero = stackalloc byte[2];
            zero.Clear();
            uint c = Ext4Crc.Crc32C(seed, raw[..ChecksumLoAt]);
            c = Ext4Crc.Crc32C(c, zero);
            c = Ext4Crc.Crc32C(c, raw[(ChecksumLoAt + 2)..GoodOldSize]);
            if (size > GoodOldSize)
            {
                c = Ext4Crc.Crc32C(c, raw[GoodOldSize..ChecksumHiAt]);
                int after = ChecksumHiAt;
                if (hasHi) { c = Ext4Crc.Crc32C(c, zero); after += 2; }
                c = Ext4Crc.Crc32C(c, raw[after..]);
            }
            uint stored = BinaryPrimitives.ReadUInt16LittleEndian(raw[ChecksumLoAt..]);
            if (hasHi) stored |= (uint)BinaryPrimitives.ReadUInt16LittleEndian(raw[ChecksumHiAt..]) << 16;
            else c &= 0xFFFF;
            if (stored != c) CorruptStructure.Throw(Name(number), deviceOffset, $"inode checksum mismatch (stored 0x{stored:X8}, computed 0x{c:X8})");
        }

        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(raw[FlagsAt..]);
        ulong blocks = BinaryPrimitives.ReadUInt32LittleEndian(raw[BlocksLoAt..]);
        if ((sb.RoCompat & Ext4RoCompatFeatures.HugeFile) != 0)
        {
            blocks |= (ulong)BinaryPrimitives.ReadUInt16LittleEndian(raw[BlocksHighAt..]) << 32;
            // huge_file: with EXT4_HUGE_FILE_FL the count is in file-system blocks, not 512-byte sectors.
            if ((flags & FlagHugeFile) != 0) blocks *= (ulong)(sb.BlockSizeBytes / 512);
        }
        ulong acl = BinaryPrimitives.ReadUInt32LittleEndian(raw[FileAclLoAt..]);
        if (sb.Has64Bit) acl |= (ulong)BinaryPrimitives.ReadUInt16LittleEndian(raw[FileAclHighAt..]) << 32;
        ulong sizeBytes = BinaryPrimitives.ReadUInt32LittleEndian(raw[SizeLoAt..])
            | (ulong)BinaryPrimitives.ReadUInt32LittleEndian(raw[SizeHighAt..]) << 32;
        if (sizeBytes > long.MaxValue) CorruptStructure.Throw(Name(number), deviceOffset, $"i_size {sizeBytes} is out of range");


        int xattrAt = GoodOldSize + extra;
        var inode = new Ext4Inode
        {
            Number = number,
            DeviceOffset = deviceOffset,
            Mode = BinaryPrimitives.ReadUInt16LittleEndian(raw[ModeAt..]),
            Uid = BinaryPrimitives.ReadUInt16LittleEndian(raw[UidAt..]) | (uint)BinaryPrimitives.ReadUInt16LittleEndian(raw[UidHighAt..]) << 16,
            Gid = BinaryPrimitives.ReadUInt16LittleEndian(raw[GidAt..]) | (uint)BinaryPrimitives.ReadUInt16LittleEndian(raw[GidHighAt..]) << 16,
            SizeBytes = (long)sizeBytes,
            LinksCount = BinaryPrimitives.ReadUInt16LittleEndian(raw[LinksAt..]),
            BlocksIn512 = blocks,
            Flags = flags,
            Generation = generation,
            FileAclBlock = acl,
            ExtraIsize = extra,
            Accessed = Time(raw, extra, AtimeAt, AtimeExtraAt),
            Modified = Time(raw, extra, MtimeAt, MtimeExtraAt),
            Changed = Time(raw, extra, CtimeAt, CtimeExtraAt),
            Created = Fits(extra, CrtimeAt) ? Time(raw, extra, CrtimeAt, CrtimeExtraAt) : null,
            // Kept only when it starts with the xattr magic; most inodes have no in-inode attributes.
            InlineXattrArea = xattrAt + 4 <= size && BinaryPrimitives.ReadUInt32LittleEndian(raw[xattrAt..]) == Ext4Xattr.Magic
                ? raw[xattrAt..].ToArray() : ReadOnlyMemory<byte>.Empty,
            ChecksumSeed = seed,
        };
        raw.Slice(BlockAt, BlockFieldBytes).CopyTo(inode.block);
        return inode;
    }

    [InlineArray(BlockFieldBytes)]
    struct BlockField { byte first; }
}
