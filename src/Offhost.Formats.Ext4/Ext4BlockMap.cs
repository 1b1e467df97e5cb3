using System.Buffers.Binary;
using Offhost.Core.Devices;
using Offhost.Core.Errors;

namespace Offhost.Formats.Ext4;

/// <summary>
/// Turns an inode's <c>i_block</c> into the runs of its logical blocks: an extent tree of any depth (ext4) or a
/// classic block map with single, double and triple indirect blocks (ext2/3). Everything read from disk is
/// validated (magic, counts, depth, ordering, block numbers inside the volume, checksums with metadata_csum);
/// cycles and shared tree blocks are caught with a per-file visited set, and the work per file is bounded.
/// Not thread-safe: one instance per mapper, buffers are reused between files.
/// </summary>
public sealed class Ext4BlockMap
{
    /// <summary>Upper bound on tree or indirect blocks visited for one file (a 16 TiB file needs far fewer).</summary>
    public const int MaxMetadataBlocksPerFile = 1 << 22;

    readonly IBlockSource volume;
    readonly Ext4Superblock sb;
    readonly long partitionStart;
    readonly int bs;
    readonly byte[][] levelBuffers = new byte[Ext4ExtentHeader.MaxDepth + 1][];
    readonly HashSet<ulong> visited = [];

    public Ext4BlockMap(IBlockSource volume, Ext4Superblock sb, long partitionStartBytes)
    {
        this.volume = volume;
        this.sb = sb;
        partitionStart = partitionStartBytes;
        bs = sb.BlockSizeBytes;
    }

    /// <summary>Metadata bytes read, for statistics.</summary>
    public long MetadataBytesRead { get; private set; }

    long DeviceOffsetOfBlock(ulong block) => partitionStart + (long)block * bs;

    byte[] Buffer(int level) => levelBuffers[level] ??= new byte[bs];

    /// <summary>
    /// Appends the runs of <paramref name="inode"/> covering logical blocks [0, <paramref name="limitBlocks"/>) to
    /// <paramref name="runs"/>, in logical order. Runs may extend past the limit (extents past EOF are kept; callers clip).
    /// </summary>
    public void GetRuns(Ext4Inode inode, ulong limitBlocks, List<Ext4Run> runs)
    {
        visited.Clear();
        if (inode.HasFlag(Ext4Inode.FlagExtents))
        {
            ulong next = 0;
            WalkExtents(inode, inode.Block, inode.DeviceOffset + 0x28, null, 0, ulong.MaxValue, ref next, runs, 0);
        }
        else
        {
            WalkIndirect(inode, limitBlocks, runs);
        }
    }

    void WalkExtents(Ext4Inode inode, ReadOnlySpan<byte> node, long nodeDeviceOffset, int? expectedDepth,
        ulong loBlock, ulong hiBlock, ref ulong nextLogical, List<Ext4Run> runs, int level)
    {
        var h = Ext4ExtentHeader.Read(node, nodeDeviceOffset);
        if (expectedDepth is int want)
            CorruptStructure.Check(h.Depth == want, "ext4_extent_header", nodeDeviceOffset,
                $"eh_depth {h.Depth} where the parent index requires {want} (depth must decrease by one per level)");
        else
            CorruptStructure.Check(level == 0, "ext4_extent_header", nodeDeviceOffset, "internal: non-root without depth");

        for (int i = 0; i < h.Entries; i++)
        {
            var e = node.Slice(Ext4ExtentHeader.Size + i * 12, 12);
            long entryAt = nodeDeviceOffset + Ext4ExtentHeader.Size + i * 12;
            if (h.Depth == 0)
            {
                var x = Ext4Extent.Read(e);
                CorruptStructure.Check(x.RawLength != 0, "ext4_extent", entryAt, "ee_len is 0");
                CorruptStructure.Check(x.FirstLogicalBlock >= nextLogical && x.FirstLogicalBlock >= loBlock, "ext4_extent", entryAt,
                    $"ee_block {x.FirstLogicalBlock} overlaps or precedes the previous extent (next free logical block {nextLogical}) or its index ({loBlock})");
                ulong end = (ulong)x.FirstLogicalBlock + x.LengthBlocks;
                CorruptStructure.Check(end <= hiBlock, "ext4_extent", entryAt,
                    $"extent [{x.FirstLogicalBlock}, {end}) runs past the next index entry at logical block {hiBlock}");
                CheckPhysical(x.FirstPhysicalBlock, x.LengthBlocks, "ext4_extent", entryAt);
                nextLogical = end;
                runs.Add(new Ext4Run(x.FirstLogicalBlock, x.FirstPhysicalBlock, x.LengthBlocks, x.IsUnwritten));
            }
            else
            {
                var ix = Ext4ExtentIndex.Read(e);
                CorruptStructure.Check(ix.FirstLogicalBlock >= loBlock && (i == 0 || ix.FirstLogicalBlock >= nextLogical), "ext4_extent_idx", entryAt,
                    $"ei_block {ix.FirstLogicalBlock} is out of order");
                ulong childHi = hiBlock;
                if (i + 1 < h.Entries)
                {
                    uint nextStart = BinaryPrimitives.ReadUInt32LittleEndian(node[(Ext4ExtentHeader.Size + (i + 1) * 12)..]);
                    CorruptStructure.Check(nextStart > ix.FirstLogicalBlock, "ext4_extent_idx", entryAt + 12,
                        $"ei_block {nextStart} does not follow {ix.FirstLogicalBlock}");
                    childHi = Math.Min(childHi, nextStart);
                }
                CheckPhysical(ix.ChildBlock, 1, "ext4_extent_idx", entryAt);
                CorruptStructure.Check(visited.Add(ix.ChildBlock), "ext4_extent_idx", entryAt,
                    $"tree block {ix.ChildBlock} is referenced twice (cycle or shared extent block)");
                CorruptStructure.Check(visited.Count <= MaxMetadataBlocksPerFile, "ext4_extent_idx", entryAt, "too many extent tree blocks");
                var child = Buffer(level + 1);
                long childAt = DeviceOffsetOfBlock(ix.ChildBlock);
                volume.ReadAt((long)ix.ChildBlock * bs, child);
                MetadataBytesRead += bs;
                if (sb.HasMetadataCsum) VerifyExtentBlock(inode, child, childAt);
                nextLogical = Math.Max(nextLogical, ix.FirstLogicalBlock);
                WalkExtents(inode, child, childAt, h.Depth - 1, ix.FirstLogicalBlock, childHi, ref nextLogical, runs, level + 1);
            }
        }
    }

    void VerifyExtentBlock(Ext4Inode inode, ReadOnlySpan<byte> block, long at)
    {
        var h = Ext4ExtentHeader.Read(block, at);
        int tail = Ext4ExtentHeader.Size + h.Max * 12;
        CorruptStructure.Check(tail + 4 <= block.Length, "ext4_extent_tail", at + tail, "no room for the checksum tail");
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(block[tail..]);
        uint computed = Ext4Crc.Crc32C(inode.ChecksumSeed, block[..tail]);
        CorruptStructure.Check(stored == computed, "ext4_extent_tail", at + tail,
            $"extent block checksum mismatch (stored 0x{stored:X8}, computed 0x{computed:X8})");
    }

    void CheckPhysical(ulong first, ulong count, string structure, long at)
    {
        CorruptStructure.Check(first > 0 && first >= sb.FirstDataBlock && first + count <= sb.BlocksCount && first + count > first, structure, at,
            $"blocks [{first}, {first + count}) lie outside the volume (blocks {sb.FirstDataBlock}..{sb.BlocksCount})");
    }

    const int DirectBlocks = 12;

    void WalkIndirect(Ext4Inode inode, ulong limitBlocks, List<Ext4Run> runs)
    {
        var b = inode.Block;
        ulong perBlock = (ulong)bs / 4;
        long iblockAt = inode.DeviceOffset + 0x28;
        for (int i = 0; i < DirectBlocks && (ulong)i < limitBlocks; i++)
            AddPointer(BinaryPrimitives.ReadUInt32LittleEndian(b[(i * 4)..]), (ulong)i, runs, iblockAt + i * 4);
        ulong logical = DirectBlocks;
        ulong span = perBlock;
        for (int level = 1; level <= 3 && logical < limitBlocks; level++)
        {
            uint ptr = BinaryPrimitives.ReadUInt32LittleEndian(b[((DirectBlocks + level - 1) * 4)..]);
            if (ptr != 0) WalkIndirectBlock(ptr, level, logical, limitBlocks, runs, iblockAt + (DirectBlocks + level - 1) * 4);
            logical += span;
            span *= perBlock;
        }
    }

    void WalkIndirectBlock(uint block, int level, ulong firstLogical, ulong limitBlocks, List<Ext4Run> runs, long pointerAt)
    {
        CheckPhysical(block, 1, "indirect block pointer", pointerAt);
        CorruptStructure.Check(visited.Add(block), "indirect block pointer", pointerAt,
            $"indirect block {block} is referenced twice (cycle or shared indirect block)");
        CorruptStructure.Check(visited.Count <= MaxMetadataBlocksPerFile, "indirect block pointer", pointerAt, "too many indirect blocks");
        var buf = Buffer(level);
        volume.ReadAt((long)block * bs, buf);
        MetadataBytesRead += bs;
        long at = DeviceOffsetOfBlock(block);
        ulong perBlock = (ulong)bs / 4;
        ulong childSpan = 1;
        for (int l = 1; l < level; l++) childSpan *= perBlock;
        for (ulong i = 0; i < perBlock; i++)
        {
            ulong logical = firstLogical + i * childSpan;
            if (logical >= limitBlocks) break;
            uint p = BinaryPrimitives.ReadUInt32LittleEndian(buf.AsSpan((int)(i * 4)));
            if (p == 0) continue;
            if (level == 1) AddPointer(p, logical, runs, at + (long)i * 4);
            else WalkIndirectBlock(p, level - 1, logical, limitBlocks, runs, at + (long)i * 4);
            // The recursive call reused deeper buffers only; this level's buffer is intact.
        }
    }

    void AddPointer(uint p, ulong logical, List<Ext4Run> runs, long pointerAt)
    {
        if (p == 0) return;
        CheckPhysical(p, 1, "block pointer", pointerAt);
        if (runs.Count > 0)
        {
            var last = runs[^1];
            if (last.EndLogicalBlock == logical && last.PhysicalBlock + last.Blocks == p)
            {
                runs[^1] = last with { Blocks = last.Blocks + 1 };
                return;
            }
        }
        runs.Add(new Ext4Run(logical, p, 1, false));
    }
}
