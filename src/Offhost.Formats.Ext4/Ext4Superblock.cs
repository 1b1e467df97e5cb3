using System.Buffers.Binary;
using System.Text;
using Offhost.Core.Errors;

namespace Offhost.Formats.Ext4;

/// <summary>
/// The ext2/3/4 superblock (<c>struct ext4_super_block</c>, 1024 bytes at byte 1024 of the volume), the fields
/// the mapper needs, validated. Sizes are in bytes unless the name says blocks; block numbers are file-system
/// blocks of <see cref="BlockSizeBytes"/>. Immutable.
/// </summary>
public sealed class Ext4Superblock
{
    public const int OffsetBytes = 1024;
    public const int Size = 1024;
    public const ushort Magic = 0xEF53;
    const string Name = "ext4_super_block";

    const int InodesCountAt = 0x0, BlocksCountLoAt = 0x4, FirstDataBlockAt = 0x14, LogBlockSizeAt = 0x18,
        LogClusterSizeAt = 0x1C, BlocksPerGroupAt = 0x20, InodesPerGroupAt = 0x28, MagicAt = 0x38, StateAt = 0x3A,
        RevLevelAt = 0x4C, FirstInoAt = 0x54, InodeSizeAt = 0x58, CompatAt = 0x5C, IncompatAt = 0x60, RoCompatAt = 0x64,
        UuidAt = 0x68, VolumeNameAt = 0x78, DescSizeAt = 0xFE, FirstMetaBgAt = 0x104, BlocksCountHiAt = 0x150,
        ChecksumTypeAt = 0x175, ChecksumSeedAt = 0x270, ChecksumAt = 0x3FC, ClustersPerGroupAt = 0x24,
        ReservedGdtBlocksAt = 0xCE, BackupBgsAt = 0x24C;

    /// <summary>Largest block size ext4 defines (64 KiB).</summary>
    public const int MaxBlockSizeBytes = 65536;

    /// <summary>Incompatible features this reader understands; anything else is refused by name.</summary>
    public const Ext4IncompatFeatures Understood =
        Ext4IncompatFeatures.FileType | Ext4IncompatFeatures.Recover | Ext4IncompatFeatures.MetaBg |
        Ext4IncompatFeatures.Extents | Ext4IncompatFeatures.Bit64 | Ext4IncompatFeatures.Mmp |
        Ext4IncompatFeatures.FlexBg | Ext4IncompatFeatures.EaInode | Ext4IncompatFeatures.DirData |
        Ext4IncompatFeatures.CsumSeed | Ext4IncompatFeatures.LargeDir | Ext4IncompatFeatures.InlineData |
        Ext4IncompatFeatures.Encrypt | Ext4IncompatFeatures.Casefold;

    public uint InodesCount { get; private init; }
    public ulong BlocksCount { get; private init; }
    public uint FirstDataBlock { get; private init; }
    public int BlockSizeBytes { get; private init; }
    /// <summary>Allocation unit: the block size, or <c>2^(10 + s_log_cluster_size)</c> with bigalloc.</summary>
    public int ClusterSizeBytes { get; private init; }
    public uint BlocksPerGroup { get; private init; }
    public uint InodesPerGroup { get; private init; }
    public ushort State { get; private init; }
    public uint RevLevel { get; private init; }
    public uint FirstIno { get; private init; }
    public int InodeSizeBytes { get; private init; }
    public Ext4CompatFeatures Compat { get; private init; }
    public Ext4IncompatFeatures Incompat { get; private init; }
    public Ext4RoCompatFeatures RoCompat { get; private init; }
    public byte[] Uuid { get; private init; } = [];
    public string Label { get; private init; } = "";
    /// <summary>Group descriptor size: 32, or <c>s_desc_size</c> with the 64bit feature.</summary>
    public int DescSizeBytes { get; private init; }
    public uint FirstMetaBg { get; private init; }
    /// <summary><c>s_clusters_per_group</c>: bits in each block bitmap (equals <see cref="BlocksPerGroup"/> without bigalloc).</summary>
    public uint ClustersPerGroup { get; private init; }
    /// <summary><c>s_reserved_gdt_blocks</c>: blocks kept after the descriptor table for online resize (resize_inode).</summary>
    public ushort ReservedGdtBlocks { get; private init; }
    /// <summary><c>s_backup_bgs</c>: the only two groups with superblock backups under sparse_super2 (0 = none).</summary>
    public (uint First, uint Second) BackupGroups { get; private init; }
    /// <summary>Blocks per cluster (1 without bigalloc).</summary>
    public int ClusterRatio => ClusterSizeBytes / BlockSizeBytes;
    /// <summary>Seed of every metadata_csum checksum except the superblock's own.</summary>
    public uint ChecksumSeed { get; private init; }

    public uint GroupCount => (uint)((BlocksCount - FirstDataBlock + BlocksPerGroup - 1) / BlocksPerGroup);
    public bool HasMetadataCsum => (RoCompat & Ext4RoCompatFeatures.MetadataCsum) != 0;
    public bool HasGdtCsum => (RoCompat & Ext4RoCompatFeatures.GdtCsum) != 0;
    public bool Has64Bit => (Incompat & Ext4IncompatFeatures.Bit64) != 0;

    /// <summary>ext4 when any ext4-only feature is on, ext3 with a journal only, ext2 otherwise.</summary>
    public string FileSystemName
    {
        get
        {
            const Ext4IncompatFeatures ext4Incompat = Ext4IncompatFeatures.Extents | Ext4IncompatFeatures.Bit64 |
                Ext4IncompatFeatures.FlexBg | Ext4IncompatFeatures.InlineData | Ext4IncompatFeatures.EaInode |
                Ext4IncompatFeatures.CsumSeed | Ext4IncompatFeatures.LargeDir | Ext4IncompatFeatures.Encrypt |
                Ext4IncompatFeatures.Casefold | Ext4IncompatFeatures.Mmp | Ext4IncompatFeatures.MetaBg;
            const Ext4RoCompatFeatures ext4RoCompat = Ext4RoCompatFeatures.HugeFile | Ext4RoCompatFeatures.GdtCsum |
                Ext4RoCompatFeatures.DirNlink | Ext4RoCompatFeatures.ExtraIsize | Ext4RoCompatFeatures.BigAlloc |
                Ext4RoCompatFeatures.MetadataCsum | Ext4RoCompatFeatures.Quota | Ext4RoCompatFeatures.Project |
                Ext4RoCompatFeatures.Verity | Ext4RoCompatFeatures.OrphanPresent;
            if ((Incompat & ext4Incompat) != 0 || (RoCompat & ext4RoCompat) != 0) return "ext4";
            return (Compat & Ext4CompatFeatures.HasJournal) != 0 ? "ext3" : "ext2";
        }
    }

    /// <summary>True when the 2048 bytes hold a plausible superblock at 1024 (magic and sane sizes); never throws.</summary>
    public static bool Probe(ReadOnlySpan<byte> first2048Bytes)
    {
        if (first2048Bytes.Length < OffsetBytes + Size) return false;
        var s = first2048Bytes.Slice(OffsetBytes, Size);
        if (BinaryPrimitives.ReadUInt16LittleEndian(s[MagicAt..]) != Magic) return false;
        uint logBlock = BinaryPrimitives.ReadUInt32LittleEndian(s[LogBlockSizeAt..]);
        if (logBlock > 6) return false;
        return BinaryPrimitives.ReadUInt32LittleEndian(s[BlocksPerGroupAt..]) != 0
            && BinaryPrimitives.ReadUInt32LittleEndian(s[InodesPerGroupAt..]) != 0
            && BinaryPrimitives.ReadUInt32LittleEndian(s[InodesCountAt..]) != 0;
    }

    /// <summary>
    /// Parses and validates the 1024 superblock bytes. <paramref name="deviceOffset"/> is the superblock's
    /// absolute byte offset on the device (for messages); <paramref name="volumeLengthBytes"/> bounds the block count.
    /// Throws <see cref="CorruptStructureException"/> naming what is wrong, or an unknown incompatible feature.
    /// </summary>
    public static Ext4Superblock Read(ReadOnlySpan<byte> s, long deviceOffset, long volumeLengthBytes)
    {
        if (s.Length < Size) CorruptStructure.Truncated(Name, deviceOffset, Size, s.Length);
        s = s[..Size];
        ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(s[MagicAt..]);
        CorruptStructure.Check(magic == Magic, Name, deviceOffset, $"bad magic 0x{magic:X4} (expected 0xEF53)");

        uint logBlock = BinaryPrimitives.ReadUInt32LittleEndian(s[LogBlockSizeAt..]);
        CorruptStructure.Check(logBlock <= 6, Name, deviceOffset, $"s_log_block_size {logBlock} is out of range (block size must be 1 KiB..64 KiB)");
        int blockSize = 1024 << (int)logBlock;

        var compat = (Ext4CompatFeatures)BinaryPrimitives.ReadUInt32LittleEndian(s[CompatAt..]);
        var incompat = (Ext4IncompatFeatures)BinaryPrimitives.ReadUInt32LittleEndian(s[IncompatAt..]);
        var roCompat = (Ext4RoCompatFeatures)BinaryPrimitives.ReadUInt32LittleEndian(s[RoCompatAt..]);
        uint rev = BinaryPrimitives.ReadUInt32LittleEndian(s[RevLevelAt..]);
        if (rev == 0) { compat = 0; incompat = 0; roCompat = 0; }

        if ((roCompat & Ext4RoCompatFeatures.MetadataCsum) != 0)
        {
            byte type = s[ChecksumTypeAt];
            CorruptStructure.Check(type == 1, Name, deviceOffset, $"s_checksum_type {type} is unknown (only 1 = crc32c is defined)");
            uint want = BinaryPrimitives.ReadUInt32LittleEndian(s[ChecksumAt..]);
            uint have = Ext4Crc.Crc32C(~0u, s[..ChecksumAt]);
            CorruptStructure.Check(want == have, Name, deviceOffset, $"checksum mismatch (stored 0x{want:X8}, computed 0x{have:X8})");
        }

        if ((incompat & Ext4IncompatFeatures.JournalDev) != 0)
            CorruptStructure.Throw(Name, deviceOffset, "this is an external journal device (journal_dev), not a file system");
        var unknown = incompat & ~Understood;
        if (unknown != 0)
            CorruptStructure.Throw(Name, deviceOffset, $"unsupported incompatible feature(s): {Ext4FeatureNames.DescribeIncompat((uint)unknown)}");

        ulong blocksCount = BinaryPrimitives.ReadUInt32LittleEndian(s[BlocksCountLoAt..]);
        if ((incompat & Ext4IncompatFeatures.Bit64) != 0)
            blocksCount |= (ulong)BinaryPrimitives.ReadUInt32LittleEndian(s[BlocksCountHiAt..]) << 32;
        uint firstData = BinaryPrimitives.ReadUInt32LittleEndian(s[FirstDataBlockAt..]);
        uint bpg = BinaryPrimitives.ReadUInt32LittleEndian(s[BlocksPerGroupAt..]);
        uint ipg = BinaryPrimitives.ReadUInt32LittleEndian(s[InodesPerGroupAt..]);
        uint inodes = BinaryPrimitives.ReadUInt32LittleEndian(s[InodesCountAt..]);
        uint logCluster = BinaryPrimitives.ReadUInt32LittleEndian(s[LogClusterSizeAt..]);
        uint clustersPerGroup = BinaryPrimitives.ReadUInt32LittleEndian(s[ClustersPerGroupAt..]);
        bool bigalloc = (roCompat & Ext4RoCompatFeatures.BigAlloc) != 0 && logCluster >= logBlock && logCluster <= 20;
        int clusterSize = bigalloc ? 1024 << (int)logCluster : blockSize;
        int ratio = clusterSize / blockSize;
        // Without bigalloc the field is either equal to the blocks per group or unused (old file systems left it 0).
        if (ratio == 1) clustersPerGroup = bpg;

        CorruptStructure.Check(blocksCount > firstData, Name, deviceOffset, $"s_blocks_count {blocksCount} is not past s_first_data_block {firstData}");
        CorruptStructure.Check(firstData == (blockSize == 1024 ? 1u : 0u) || firstData <= 1, Name, deviceOffset, $"s_first_data_block {firstData} is invalid");
        // With bigalloc, blocks per group is derived from clusters per group; the bound below is the same one mke2fs enforces.
        CorruptStructure.Check(bpg >= 8 && bpg <= (ulong)blockSize * 8 * (1UL << (int)Math.Min(logCluster, 16)), Name, deviceOffset, $"s_blocks_per_group {bpg} is out of range");
        CorruptStructure.Check(ipg >= 1 && ipg <= (uint)blockSize * 8, Name, deviceOffset, $"s_inodes_per_group {ipg} is out of range");
        CorruptStructure.Check(blocksCount <= (ulong)(volumeLengthBytes / blockSize), Name, deviceOffset,
            $"s_blocks_count {blocksCount} ({blocksCount * (ulong)blockSize} bytes) exceeds the volume ({volumeLengthBytes} bytes): image truncated?");
        ulong groups = (blocksCount - firstData + bpg - 1) / bpg;
        CorruptStructure.Check(groups <= uint.MaxValue && groups * 32 <= (ulong)Math.Max(0, volumeLengthBytes), Name, deviceOffset,
            $"{groups} block groups cannot fit their descriptors in the volume");
        CorruptStructure.Check(inodes >= 11 && (ulong)inodes <= groups * ipg, Name, deviceOffset, $"s_inodes_count {inodes} does not fit {groups} groups of {ipg} inodes");

        int inodeSize = 128;
        uint firstIno = 11;
        if (rev >= 1)
        {
            inodeSize = BinaryPrimitives.ReadUInt16LittleEndian(s[InodeSizeAt..]);
            firstIno = BinaryPrimitives.ReadUInt32LittleEndian(s[FirstInoAt..]);
            CorruptStructure.Check(inodeSize >= 128 && inodeSize <= blockSize && (inodeSize & (inodeSize - 1)) == 0,
                Name, deviceOffset, $"s_inode_size {inodeSize} is invalid (power of two from 128 to the block size)");
            CorruptStructure.Check(firstIno >= 3 && firstIno <= inodes, Name, deviceOffset, $"s_first_ino {firstIno} is out of range");
        }

        int descSize = 32;
        if ((incompat & Ext4IncompatFeatures.Bit64) != 0)
        {
            descSize = BinaryPrimitives.ReadUInt16LittleEndian(s[DescSizeAt..]);
            CorruptStructure.Check(descSize >= 64 && descSize <= 1024 && (descSize & (descSize - 1)) == 0 && descSize <= blockSize,
                Name, deviceOffset, $"s_desc_size {descSize} is invalid for a 64bit file system");
        }

        byte[] uuid = s.Slice(UuidAt, 16).ToArray();
        uint seed = (incompat & Ext4IncompatFeatures.CsumSeed) != 0
            ? BinaryPrimitives.ReadUInt32LittleEndian(s[ChecksumSeedAt..])
            : Ext4Crc.Crc32C(~0u, uuid);

        var label = s.Slice(VolumeNameAt, 16);
        int nul = label.IndexOf((byte)0);
        if (nul >= 0) label = label[..nul];

        return new Ext4Superblock
        {
            InodesCount = inodes,
            BlocksCount = blocksCount,
            FirstDataBlock = firstData,
            BlockSizeBytes = blockSize,
            ClusterSizeBytes = clusterSize,
            BlocksPerGroup = bpg,
            InodesPerGroup = ipg,
            State = BinaryPrimitives.ReadUInt16LittleEndian(s[StateAt..]),
            RevLevel = rev,
            FirstIno = firstIno,
            InodeSizeBytes = inodeSize,
            Compat = compat,
            Incompat = incompat,
            RoCompat = roCompat,
            Uuid = uuid,
            Label = Encoding.UTF8.GetString(label),
            DescSizeBytes = descSize,
            FirstMetaBg = BinaryPrimitives.ReadUInt32LittleEndian(s[FirstMetaBgAt..]),
            ClustersPerGroup = clustersPerGroup,
            ReservedGdtBlocks = BinaryPrimitives.ReadUInt16LittleEndian(s[ReservedGdtBlocksAt..]),
            BackupGroups = (BinaryPrimitives.ReadUInt32LittleEndian(s[BackupBgsAt..]), BinaryPrimitives.ReadUInt32LittleEndian(s[(BackupBgsAt + 4)..])),
            ChecksumSeed = seed,
        };
    }

    /// <summary>The UUID in the usual 8-4-4-4-12 form, bytes in on-disk order (as blkid prints it).</summary>
    public string UuidString
    {
        get
        {
            string h = Convert.ToHexStringLower(Uuid);
            return $"{h[..8]}-{h[8..12]}-{h[12..16]}-{h[16..20]}-{h[20..]}";
        }
    }

    /// <summary>Whether group <paramref name="group"/> holds a superblock backup (sparse_super: 0, 1 and powers of 3, 5, 7;
    /// sparse_super2: 0 and the two groups of <c>s_backup_bgs</c>).</summary>
    public bool GroupHasSuperblock(uint group)
    {
        if (group == 0) return true;
        if ((Compat & Ext4CompatFeatures.SparseSuper2) != 0) return group == BackupGroups.First || group == BackupGroups.Second;
        if (group == 1) return true;
        if ((RoCompat & Ext4RoCompatFeatures.SparseSuper) == 0) return true;
        return IsPowerOf(group, 3) || IsPowerOf(group, 5) || IsPowerOf(group, 7);
    }

    static bool IsPowerOf(uint n, uint b)
    {
        ulong p = b;
        while (p < n) p *= b;
        return p == n;
    }
}
