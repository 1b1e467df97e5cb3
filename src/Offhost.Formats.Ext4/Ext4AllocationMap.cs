using System.Buffers.Binary;
using System.Numerics;
using Offhost.Core.Devices;
using Offhost.Core.Errors;

namespace Offhost.Formats.Ext4;

/// <summary>
/// The allocated blocks of an ext2/3/4 volume, from its block (cluster) bitmaps. A group flagged BLOCK_UNINIT (uninit_bg,
/// metadata_csum) has no bitmap on disk; its blocks in use are derived as e2fsprogs does: the superblock backup and the
/// descriptor table with its reserved blocks (sparse_super, sparse_super2, meta_bg), plus every group's bitmaps and inode
/// table that lie in it (flex_bg places them in other groups). Every group's fixed metadata is also checked to be marked
/// in an initialised bitmap, the bitmap's checksum (metadata_csum) and free count must agree, and a descriptor must pass
/// its own checksum, and a journal that needs recovery is refused (its transactions may allocate blocks the bitmaps still
/// show free); anything else raises <see cref="CorruptStructureException"/>, so that a caller keeps every block.
/// Memory: about 40 bytes per group (at most <see cref="MaxGroups"/>) plus one block. Stateless, thread-safe.
/// </summary>
public static class Ext4AllocationMap
{
    /// <summary>Most groups read (256 TiB with 4 KiB blocks and 128 MiB groups); more are refused rather than held in memory.</summary>
    public const uint MaxGroups = 1u << 21;

    /// <summary>
    /// Allocated byte ranges of the volume in <paramref name="volume"/> (offsets relative to the partition), counted from
    /// the start of the device (<paramref name="partitionStartBytes"/> added), ascending, merged and not overlapping. Block 0
    /// of a 1 KiB-block volume (the boot block, outside every group) counts as allocated.
    /// </summary>
    public static IEnumerable<(long StartBytes, long LengthBytes)> AllocatedRanges(IBlockSource volume, Ext4Superblock sb,
        long partitionStartBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(sb);
        var layout = Layout.Read(volume, sb, partitionStartBytes);
        long bs = sb.BlockSizeBytes;
        var blockRuns = new List<(ulong Start, ulong End)>();
        var bitRuns = new List<(int Start, int Length)>();
        var bitmap = new byte[sb.BlockSizeBytes];
        ulong pendingStart = 0, pendingEnd = sb.FirstDataBlock;   // blocks before the first group (the 1 KiB boot block)
        for (uint g = 0; g < layout.Groups.Length; g++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            blockRuns.Clear();
            layout.GroupRuns(volume, g, bitmap, bitRuns, blockRuns);
            foreach (var (start, end) in blockRuns)
            {
                if (start == pendingEnd) { pendingEnd = end; continue; }
                if (pendingEnd > pendingStart)
                    yield return (partitionStartBytes + (long)pendingStart * bs, (long)(pendingEnd - pendingStart) * bs);
                (pendingStart, pendingEnd) = (start, end);
            }
        }
        if (pendingEnd > pendingStart)
            yield return (partitionStartBytes + (long)pendingStart * bs, (long)(pendingEnd - pendingStart) * bs);
    }

    /// <summary>
    /// Appends the runs of set bits among the first <paramref name="bitCount"/> bits of <paramref name="bitmap"/> (bit 0
    /// of byte 0 first, as ext4 stores bitmaps), ascending and maximal. Bits past <paramref name="bitCount"/> are ignored.
    /// </summary>
    public static void SetBitRuns(ReadOnlySpan<byte> bitmap, int bitCount, List<(int Start, int Length)> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        bitCount = Math.Clamp(bitCount, 0, bitmap.Length * 8);
        int runStart = -1;
        int bit = 0;
        while (bit < bitCount)
        {
            if ((bit & 63) == 0 && bit + 64 <= bitCount)
            {
                ulong word = BinaryPrimitives.ReadUInt64LittleEndian(bitmap.Slice(bit >> 3, 8));
                if (word == ulong.MaxValue && runStart >= 0) { bit += 64; continue; }
                if (word == 0 && runStart < 0) { bit += 64; continue; }
            }
            bool set = (bitmap[bit >> 3] & (1 << (bit & 7))) != 0;
            if (set && runStart < 0) runStart = bit;
            else if (!set && runStart >= 0) { runs.Add((runStart, bit - runStart)); runStart = -1; }
            bit++;
        }
        if (runStart >= 0) runs.Add((runStart, bitCount - runStart));
    }

    /// <summary>Number of clear bits among the first <paramref name="bitCount"/> bits of <paramref name="bitmap"/>.</summary>
    public static int CountClearBits(ReadOnlySpan<byte> bitmap, int bitCount)
    {
        bitCount = Math.Clamp(bitCount, 0, bitmap.Length * 8);
        int full = bitCount >> 3, set = 0;
        for (int i = 0; i < full; i++) set += BitOperations.PopCount(bitmap[i]);
        int rest = bitCount & 7;
        if (rest != 0) set += BitOperations.PopCount((uint)(bitmap[full] & ((1 << rest) - 1)));
        return bitCount - set;
    }

    /// <summary>The descriptors and where every group's fixed metadata lies.</summary>
    sealed class Layout
    {
        readonly Ext4Superblock sb;
        readonly long partitionStart;
        readonly ulong tableBlocks;
        readonly int ratio;
        readonly bool uninitTrusted;
        /// <summary>Every group's block bitmap, inode bitmap and inode table: [Start, End) in blocks, sorted by start.</summary>
        readonly (ulong Start, ulong End, uint Group, string What)[] metadata;
        readonly ulong longestMetadata;

        public Ext4GroupDescriptor[] Groups { get; }

        Layout(Ext4Superblock sb, long partitionStart, Ext4GroupDescriptor[] groups, ulong tableBlocks)
        {
            this.sb = sb;
            this.partitionStart = partitionStart;
            this.tableBlocks = tableBlocks;
            Groups = groups;
            ratio = sb.ClusterRatio;
            uninitTrusted = sb.HasGdtCsum || sb.HasMetadataCsum;
            metadata = new (ulong, ulong, uint, string)[groups.Length * 3];
            for (uint g = 0; g < groups.Length; g++)
            {
                var d = groups[g];
                metadata[g * 3] = (d.BlockBitmapBlock, d.BlockBitmapBlock + 1, g, "block bitmap");
                metadata[g * 3 + 1] = (d.InodeBitmapBlock, d.InodeBitmapBlock + 1, g, "inode bitmap");
                metadata[g * 3 + 2] = (d.InodeTableBlock, d.InodeTableBlock + tableBlocks, g, "inode table");
            }
            Array.Sort(metadata, (a, b) => a.Start.CompareTo(b.Start));
            longestMetadata = Math.Max(1, tableBlocks);
        }

        long SuperblockAt => partitionStart + Ext4Superblock.OffsetBytes;

        public static Layout Read(IBlockSource volume, Ext4Superblock sb, long partitionStart)
        {
            long sbAt = partitionStart + Ext4Superblock.OffsetBytes;
            // Blocks allocated by transactions still in the journal are free in the on-disk bitmaps until replay;
            // a backup that skipped them would lose what the replay brings back.
            CorruptStructure.Check((sb.Incompat & Ext4IncompatFeatures.Recover) == 0, "ext4_super_block", sbAt,
                "the journal needs recovery (needs_recovery): the block bitmaps may be behind it");
            int bs = sb.BlockSizeBytes;
            int ratio = sb.ClusterRatio;
            uint cpg = sb.ClustersPerGroup;
            CorruptStructure.Check(cpg >= 8 && cpg % 8 == 0 && cpg <= (uint)bs * 8 && (ulong)cpg * (ulong)ratio == sb.BlocksPerGroup,
                "ext4_super_block", sbAt, $"s_clusters_per_group {cpg} does not fit one bitmap block of {bs} bytes and {sb.BlocksPerGroup} blocks per group of {ratio}-block clusters");
            CorruptStructure.Check(ratio == 1 || sb.FirstDataBlock == 0, "ext4_super_block", sbAt,
                $"s_first_data_block {sb.FirstDataBlock} with bigalloc (must be 0)");
            uint count = sb.GroupCount;
            CorruptStructure.Check(count <= MaxGroups, "ext4_super_block", sbAt,
                $"{count} block groups are more than the allocation map reads ({MaxGroups})");
            ulong tableBlocks = ((ulong)sb.InodesPerGroup * (ulong)sb.InodeSizeBytes + (ulong)bs - 1) / (ulong)bs;

            var groups = new Ext4GroupDescriptor[count];
            var block = new byte[bs];
            long loaded = -1;
            for (uint g = 0; g < count; g++)
            {
                long at = Ext4GroupTable.DescriptorOffsetBytes(sb, g);
                long blockAt = at - at % bs;
                long deviceAt = partitionStart + at;
                string structure = $"ext4_group_desc {g}";
                CorruptStructure.Check(blockAt >= 0 && blockAt + bs <= volume.LengthBytes, structure, deviceAt, "descriptor lies past the end of the volume");
                if (blockAt != loaded)
                {
                    volume.ReadAt(blockAt, block);
                    loaded = blockAt;
                }
                var raw = block.AsSpan((int)(at - blockAt), sb.DescSizeBytes);
                var d = Ext4GroupDescriptor.Read(raw, sb.DescSizeBytes, deviceAt);
                ushort? want = Ext4GroupDescriptor.ComputeChecksum(sb, g, raw);
                CorruptStructure.Check(want is null || want == d.Checksum, structure, deviceAt,
                    $"checksum mismatch (stored 0x{d.Checksum:X4}, computed 0x{want:X4})");
                CheckInVolume(sb, d.BlockBitmapBlock, 1, structure, deviceAt, "bg_block_bitmap");
                CheckInVolume(sb, d.InodeBitmapBlock, 1, structure, deviceAt, "bg_inode_bitmap");
                CheckInVolume(sb, d.InodeTableBlock, tableBlocks, structure, deviceAt, "bg_inode_table");
                groups[g] = d;
            }
            return new Layout(sb, partitionStart, groups, tableBlocks);
        }

        static void CheckInVolume(Ext4Superblock sb, ulong block, ulong blocks, string structure, long deviceAt, string field) =>
            CorruptStructure.Check(block >= sb.FirstDataBlock && block < sb.BlocksCount && blocks <= sb.BlocksCount - block, structure, deviceAt,
                $"{field} {block} (+{blocks} blocks) lies outside the volume ({sb.FirstDataBlock}..{sb.BlocksCount})");

        /// <summary>
        /// The allocated block runs of group <paramref name="g"/>, ascending, into <paramref name="blockRuns"/>:
        /// the group's bitmap (read into <paramref name="bitmap"/>, checked) or, for BLOCK_UNINIT, its derived metadata.
        /// </summary>
        public void GroupRuns(IBlockSource volume, uint g, byte[] bitmap, List<(int Start, int Length)> bitRuns, List<(ulong Start, ulong End)> blockRuns)
        {
            var d = Groups[g];
            ulong first = sb.FirstDataBlock + (ulong)g * sb.BlocksPerGroup;
            ulong blocks = Math.Min(sb.BlocksPerGroup, sb.BlocksCount - first);
            int clusters = (int)((blocks + (ulong)ratio - 1) / (ulong)ratio);
            bool uninit = uninitTrusted && (d.Flags & Ext4GroupDescriptor.BlockUninit) != 0;
            long bitmapAt = partitionStart + (long)d.BlockBitmapBlock * sb.BlockSizeBytes;
            string bitmapName = $"block bitmap of group {g}";

            if (uninit) Array.Clear(bitmap);
            else
            {
                volume.ReadAt((long)d.BlockBitmapBlock * sb.BlockSizeBytes, bitmap);
                if (sb.HasMetadataCsum)
                {
                    uint have = Ext4Crc.Crc32C(sb.ChecksumSeed, bitmap.AsSpan(0, (int)(sb.ClustersPerGroup / 8)));
                    if (!d.HasFullBitmapChecksum) have &= 0xFFFF;
                    CorruptStructure.Check(have == d.BlockBitmapChecksum, bitmapName, bitmapAt,
                        $"checksum mismatch (descriptor holds 0x{d.BlockBitmapChecksum:X8}, computed 0x{have:X8})");
                }
                int free = CountClearBits(bitmap, clusters);
                CorruptStructure.Check(free == d.FreeClusters, bitmapName, bitmapAt,
                    $"{free} free clusters where the group descriptor counts {d.FreeClusters}");
            }

            // The superblock backup and descriptor blocks this group holds (ext2fs_reserve_super_and_bgd).
            foreach (var (start, end, what) in SuperAndDescriptors(g, first))
                MarkOrCheck(bitmap, uninit, first, blocks, start, end, what, g, bitmapName, bitmapAt);

            // Any group's bitmaps and inode table that lie here.
            ulong lower = first >= longestMetadata ? first - longestMetadata : 0;
            int i = LowerBound(lower);
            for (; i < metadata.Length && metadata[i].Start < first + blocks; i++)
            {
                var m = metadata[i];
                if (m.End <= first) continue;
                MarkOrCheck(bitmap, uninit, first, blocks, m.Start, m.End, $"{m.What} of group {m.Group}", g, bitmapName, bitmapAt);
            }

            bitRuns.Clear();
            SetBitRuns(bitmap, clusters, bitRuns);
            foreach (var (start, length) in bitRuns)
            {
                ulong s = first + (ulong)start * (ulong)ratio;
                ulong e = Math.Min(first + blocks, first + (ulong)(start + length) * (ulong)ratio);
                blockRuns.Add((s, e));
            }
        }

        int LowerBound(ulong start)
        {
            int lo = 0, hi = metadata.Length;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (metadata[mid].Start < start) lo = mid + 1; else hi = mid;
            }
            return lo;
        }

        void MarkOrCheck(byte[] bitmap, bool uninit, ulong first, ulong blocks, ulong start, ulong end, string what, uint g, string bitmapName, long bitmapAt)
        {
            start = Math.Max(start, first);
            end = Math.Min(end, first + blocks);
            for (ulong b = start; b < end; b++)
            {
                int c = (int)((b - first) / (ulong)ratio);
                int mask = 1 << (c & 7);
                if (uninit) bitmap[c >> 3] |= (byte)mask;
                else if ((bitmap[c >> 3] & mask) == 0)
                    CorruptStructure.Throw(bitmapName, bitmapAt, $"marks block {b} ({what}) free");
            }
        }

        /// <summary>The superblock copy and descriptor blocks group <paramref name="g"/> holds, as [Start, End) blocks.</summary>
        List<(ulong Start, ulong End, string What)> SuperAndDescriptors(uint g, ulong first)
        {
            var list = new List<(ulong, ulong, string)>(3);
            ulong groupBlock = first == 0 && sb.BlockSizeBytes == 1024 ? 1 : first;
            bool metaBg = (sb.Incompat & Ext4IncompatFeatures.MetaBg) != 0;
            uint perBlock = (uint)(sb.BlockSizeBytes / sb.DescSizeBytes);
            ulong descBlocks = (sb.GroupCount + (ulong)perBlock - 1) / perBlock;
            ulong oldDescBlocks = metaBg ? sb.FirstMetaBg : descBlocks + sb.ReservedGdtBlocks;
            bool hasSuper = sb.GroupHasSuperblock(g);
            if (hasSuper) list.Add((groupBlock, groupBlock + 1, "superblock"));
            if (g == 0 && first == 0 && sb.BlockSizeBytes == 1024) list.Add((0, 1, "boot block"));
            if (!metaBg || g / perBlock < sb.FirstMetaBg)
            {
                if (hasSuper && oldDescBlocks > 0)
                {
                    ulong start = groupBlock + 1;
                    ulong end = Math.Min(start + oldDescBlocks, sb.BlocksCount);
                    if (start < end) list.Add((start, end, "group descriptor table"));
                }
            }
            else
            {
                uint at = g % perBlock;
                if (at == 0 || at == 1 || at == perBlock - 1)
                {
                    ulong b = groupBlock + (hasSuper ? 1UL : 0UL);
                    if (b < sb.BlocksCount) list.Add((b, b + 1, "meta_bg descriptor block"));
                }
            }
            return list;
        }
    }
}
