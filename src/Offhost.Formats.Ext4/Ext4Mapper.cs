using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Text;
using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;

namespace Offhost.Formats.Ext4;

/// <summary>
/// Maps an ext2/3/4 volume by walking the directory tree from the root (inode 2), depth first. Memory stays bounded
/// by the tree's shape, not its size: a stack of pending directories, the set of directories already visited,
/// a table of names for files with more than one link until their last name is seen, an 8 MiB inode cache, and at
/// most 16 batches of 256 inodes queued between the two threads below.
/// Extents are in device blocks (<see cref="IBlockSource.LogicalBlockSize"/>) counted from the start of the device.
/// The walk runs on two threads: one reads directories and inodes in walk order, the enumerating thread builds the
/// entries (extent trees, xattrs, symlink targets) from them in the same order, so the output is the same as a
/// single-threaded walk's. Not thread-safe; <see cref="Entries"/> is single pass.
/// </summary>
internal sealed class Ext4Mapper : IVolumeMapper, IAllocationMap
{
    const uint RootInode = 2;
    /// <summary>Directories read in one piece up to this size; larger ones are validated in a first pass and re-read.</summary>
    const int DirectoryChunkBytes = 1 << 20;
    /// <summary>Longest symlink target Linux allows (PATH_MAX).</summary>
    const int MaxSymlinkBytes = 4096;
    /// <summary>The walk hands inodes to the builder in batches of this many; at most <see cref="QueuedBatches"/> wait,
    /// which bounds the memory between the two threads.</summary>
    const int BatchItems = 256;
    const int QueuedBatches = 16;

    readonly SliceBlockSource volume;
    readonly Ext4Superblock sb;
    readonly Ext4GroupTable groups;
    readonly Ext4BlockMap blockMap;
    readonly Ext4ChunkCache inodeCache;
    readonly long partitionStart;
    readonly int bs;
    readonly int deviceBlock;
    readonly byte[] blockBuffer;
    readonly List<Ext4Run> runs = [];
    /// <summary>Scratch for the stream being built; each stream gets an exact-size copy.</summary>
    readonly List<MapExtent> extents = [];
    int entriesCalls;

    public Ext4Mapper(SliceBlockSource volume, Ext4Superblock sb, Ext4GroupTable groups, VolumeInfo info)
    {
        this.volume = volume;
        this.sb = sb;
        this.groups = groups;
        Volume = info;
        partitionStart = volume.StartBytes;
        bs = sb.BlockSizeBytes;
        deviceBlock = volume.LogicalBlockSize;
        blockMap = new Ext4BlockMap(volume, sb, partitionStart);
        inodeCache = new Ext4ChunkCache(volume);
        blockBuffer = new byte[bs];
    }

    public VolumeInfo Volume { get; }

    /// <summary>From the block bitmaps; see <see cref="Ext4AllocationMap"/>.</summary>
    public IEnumerable<(long StartBytes, long LengthBytes)> AllocatedRanges(CancellationToken cancellationToken) =>
        Ext4AllocationMap.AllocatedRanges(volume, sb, partitionStart, cancellationToken);
    public MapStatistics Statistics { get; } = new();

    public IEnumerable<MapEntry> Entries(CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref entriesCalls) != 1) throw new InvalidOperationException("Entries() is single pass");
        return Walk(cancellationToken);
    }

    sealed class PendingLinks(Ext4Inode inode)
    {
        public Ext4Inode Inode { get; } = inode;
        public List<string> Names { get; } = [];
    }

    /// <summary>An entry of the walk: either ready (unmappable) or an inode to build with its path and other names.</summary>
    readonly record struct WalkItem(MapEntry? Ready, Ext4Inode? Inode, string Path, IReadOnlyList<string> Links)
    {
        public static WalkItem Of(MapEntry ready) => new(ready, null, ready.Path, []);
        public static WalkItem Build(Ext4Inode inode, string path, IReadOnlyList<string> links) => new(null, inode, path, links);
    }

    /// <summary>
    /// Runs <see cref="Plan"/> on a thread of its own and builds its items here, in order. The builder is a second
    /// mapper over the same volume, so neither thread shares a buffer, cache or block map with the other (the volume's
    /// <see cref="IBlockSource.ReadAt"/> is thread-safe; the superblock and group table are read-only).
    /// </summary>
    IEnumerable<MapEntry> Walk(CancellationToken ct)
    {
        var builder = new Ext4Mapper(volume, sb, groups, Volume);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var queue = new BlockingCollection<List<WalkItem>>(QueuedBatches);
        Exception? failure = null;
        var walker = new Thread(() =>
        {
            try
            {
                var batch = new List<WalkItem>(BatchItems);
                foreach (var item in Plan(stop.Token))
                {
                    batch.Add(item);
                    if (batch.Count < BatchItems) continue;
                    queue.Add(batch, stop.Token);
                    batch = new List<WalkItem>(BatchItems);
                }
                if (batch.Count > 0) queue.Add(batch, stop.Token);
            }
            catch (Exception e) { failure = e; }
            finally { queue.CompleteAdding(); }
        }) { IsBackground = true, Name = "ext4 walk" };
        walker.Start();
        try
        {
            // Not stop.Token: the walker completes the queue however it ends, and what it found before is emitted first.
            foreach (var batch in queue.GetConsumingEnumerable(CancellationToken.None))
            {
                ct.ThrowIfCancellationRequested();
                foreach (var item in batch)
                    yield return item.Ready ?? builder.SafeBuild(item.Inode!, item.Path, item.Links);
            }
        }
        finally
        {
            // Also when the caller stops early: the walker must not read the volume after the enumeration ends.
            stop.Cancel();
            walker.Join();
        }
        if (failure is OperationCanceledException) ct.ThrowIfCancellationRequested();
        if (failure is not null) ExceptionDispatchInfo.Capture(failure).Throw();
        Statistics.RecordsScanned += builder.Statistics.RecordsScanned;
        Statistics.MetadataBytesRead = inodeCache.BytesRead + blockMap.MetadataBytesRead + directoryBytesRead
            + builder.inodeCache.BytesRead + builder.blockMap.MetadataBytesRead + builder.directoryBytesRead;
    }

    /// <summary>The walk: directories depth first, each directory's entry before its children, hard-linked files at
    /// their last name. Reads directories and inodes only; entries are built from its items by <see cref="Walk"/>.</summary>
    IEnumerable<WalkItem> Plan(CancellationToken ct)
    {
        var stack = new Stack<(uint Inode, string Path, long DirentOffset)>();
        var visitedDirs = new HashSet<uint>();
        var pending = new Dictionary<uint, PendingLinks>();
        var emittedLinked = new HashSet<uint>();
        var children = new List<Ext4DirectoryEntry>();
        var chunks = new List<(ulong Logical, ulong Physical, int Blocks)>();
        stack.Push((RootInode, "/", -1));

        while (stack.Count > 0)
        {
            ct.ThrowIfCancellationRequested();
            var (dirIno, dirPath, direntAt) = stack.Pop();
            if (!visitedDirs.Add(dirIno))
            {
                yield return WalkItem.Of(Unmappable(dirPath, dirIno, new CorruptStructureException("ext4_dir_entry_2", direntAt,
                    $"directory inode {dirIno} is reachable twice (a loop or a hard link to a directory); not descending again")));
                continue;
            }
            var dir = TryReadInode(dirIno, direntAt, out var dirError);
            if (dir is null) { yield return WalkItem.Of(Unmappable(dirPath, dirIno, dirError!)); continue; }
            if (!dir.IsDirectory)
            {
                yield return WalkItem.Of(Unmappable(dirPath, dirIno, new CorruptStructureException($"inode {dirIno}", dir.DeviceOffset, $"expected a directory, found mode 0x{dir.Mode:X4}")));
                continue;
            }
            // Pass 1: validate every block before anything of this directory is emitted.
            bool oneChunk = false;
            byte[]? kept = null;
            CorruptStructureException? bad = null;
            try { (oneChunk, kept) = PrepareDirectory(dir, chunks); }
            catch (CorruptStructureException e) { bad = e; }
            if (bad is not null) { yield return WalkItem.Of(Unmappable(dirPath, dirIno, bad)); continue; }

            yield return WalkItem.Build(dir, dirPath, []);

            // Pass 2: names, chunk by chunk (one chunk when the directory is small; kept from pass 1), each decoded
            // straight into the child's path.
            string childPrefix = dirPath == "/" ? "/" : dirPath + "/";
            int chunkIndex = 0;
            while (true)
            {
                children.Clear();
                CorruptStructureException? late = null;
                bool more;
                try { more = ReadDirectoryNames(dir, chunks, ref chunkIndex, kept, oneChunk, children, childPrefix); }
                catch (CorruptStructureException e) { late = e; more = false; }
                if (late is not null) { yield return WalkItem.Of(Unmappable(dirPath, dirIno, late)); break; }
                foreach (var child in children)
                {
                    ct.ThrowIfCancellationRequested();
                    string path = child.Name;   // the whole path (namePrefix)
                    var inode = TryReadInode(child.Inode, child.DeviceOffset, out var error);
                    if (inode is null) { yield return WalkItem.Of(Unmappable(path, child.Inode, error!)); continue; }
                    if (inode.IsDirectory) { stack.Push((child.Inode, path, child.DeviceOffset)); continue; }
                    if (inode.LinksCount > 1)
                    {
                        if (emittedLinked.Contains(child.Inode)) continue;
                        if (!pending.TryGetValue(child.Inode, out var p)) pending[child.Inode] = p = new PendingLinks(inode);
                        p.Names.Add(path);
                        if (p.Names.Count < inode.LinksCount) continue;
                        pending.Remove(child.Inode);
                        emittedLinked.Add(child.Inode);
                        yield return WalkItem.Build(p.Inode, p.Names[0], p.Names.Skip(1).ToArray());
                        continue;
                    }
                    yield return WalkItem.Build(inode, path, []);
                }
                if (!more) break;
            }
        }
        // Files whose link count promises more names than the tree holds (orphaned names): emit with what was found.
        foreach (var (_, p) in pending.OrderBy(kv => kv.Key))
            yield return WalkItem.Build(p.Inode, p.Names[0], p.Names.Skip(1).ToArray());
    }

    long directoryBytesRead;

    MapEntry SafeBuild(Ext4Inode inode, string path, IReadOnlyList<string> links)
    {
        try { return BuildEntry(inode, path, links); }
        catch (CorruptStructureException e) { return Unmappable(path, inode.Number, e); }
    }

    static MapEntry Unmappable(string path, ulong id, CorruptStructureException e) =>
        new(MapEntryKind.Unmappable, path, id) { Error = e.Message };

    Ext4Inode? TryReadInode(uint ino, long direntOffset, out CorruptStructureException? error)
    {
        try { error = null; return ReadInode(ino, direntOffset); }
        catch (CorruptStructureException e) { error = e; return null; }
    }

    /// <summary>Reads and checks inode <paramref name="ino"/>, named by the record at <paramref name="referenceOffset"/>
    /// (for messages); throws <see cref="CorruptStructureException"/>.</summary>
    public Ext4Inode ReadInode(uint ino, long referenceOffset)
    {
        Statistics.RecordsScanned++;
        if (ino < 1 || ino > sb.InodesCount)
            CorruptStructure.Throw("ext4_dir_entry_2", referenceOffset, $"inode number {ino} is outside 1..{sb.InodesCount}");
        uint group = (ino - 1) / sb.InodesPerGroup;
        uint index = (ino - 1) % sb.InodesPerGroup;
        ulong table = groups.InodeTableBlock(group, out var groupError);
        if (groupError is not null)
            throw new CorruptStructureException(groupError.Structure, groupError.DeviceOffset, groupError.Reason + $" (inode {ino} is in this group)");
        long at = (long)table * bs + (long)index * sb.InodeSizeBytes;
        var inode = Ext4Inode.Read(inodeCache.Get(at, sb.InodeSizeBytes), ino, partitionStart + at, sb);
        if (inode.Mode == 0 || inode.LinksCount == 0)
            CorruptStructure.Throw($"inode {ino}", inode.DeviceOffset, $"the record at byte offset {referenceOffset} names this inode but it is not in use (mode or link count 0)");
        return inode;
    }

    static readonly IReadOnlyDictionary<string, ReadOnlyMemory<byte>> NoXattrs = new Dictionary<string, ReadOnlyMemory<byte>>();
    /// <summary>Flag lists by flag word; a volume uses a handful, and the cap keeps a damaged one from growing it.</summary>
    readonly Dictionary<uint, IReadOnlyList<string>> flagLists = [];

    IReadOnlyList<string> Flags(Ext4Inode inode)
    {
        if (flagLists.TryGetValue(inode.Flags, out var list)) return list;
        list = inode.FlagList();
        if (flagLists.Count < 1024) flagLists[inode.Flags] = list;
        return list;
    }

    MapEntry BuildEntry(Ext4Inode inode, string path, IReadOnlyList<string> links)
    {
        IReadOnlyDictionary<string, ReadOnlyMemory<byte>> xattrs = NoXattrs;
        ReadOnlyMemory<byte> inlineTail = default;
        if (inode.FileAclBlock != 0 || !inode.InlineXattrArea.IsEmpty)
        {
            var found = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
            ReadXattrs(inode, found);
            found.Remove("system.data", out inlineTail);
            if (found.Count > 0) xattrs = found;
        }
        var special = SpecialFiles.FromMode(inode.Mode);
        var kind = inode.FileType switch
        {
            Ext4Inode.TypeDir => MapEntryKind.Directory,
            Ext4Inode.TypeSymlink => MapEntryKind.Symlink,
            _ when special is not null => MapEntryKind.Special,
            _ => MapEntryKind.File,
        };
        return new MapEntry(kind, path, inode.Number)
        {
            Links = links,
            Sequence = inode.Generation,
            SizeBytes = inode.SizeBytes,
            Attributes = Flags(inode),
            Created = inode.Created,
            Modified = inode.Modified,
            Changed = inode.Changed,
            Accessed = inode.Accessed,
            Mode = inode.Mode,
            Uid = inode.Uid,
            Gid = inode.Gid,
            Xattrs = xattrs,
            Streams = inode.IsRegular ? [BuildStream(inode, inlineTail)] : [],
            Target = inode.IsSymlink ? ReadSymlink(inode, inlineTail) : null,
            Special = special,
            Device = inode.Device,
        };
    }

    void ReadXattrs(Ext4Inode inode, Dictionary<string, ReadOnlyMemory<byte>> into)
    {
        var external = (sb.Incompat & Ext4IncompatFeatures.EaInode) != 0 ? new List<Ext4Xattr.ValueInInode>() : null;
        long areaAt = inode.DeviceOffset + Ext4Inode.GoodOldSize + inode.ExtraIsize;
        Ext4Xattr.ReadInodeBody(inode.InlineXattrArea.Span, areaAt, into, external);
        if (inode.FileAclBlock != 0)
        {
            ulong b = inode.FileAclBlock;
            CorruptStructure.Check(b >= sb.FirstDataBlock && b > 0 && b < sb.BlocksCount, $"inode {inode.Number}", inode.DeviceOffset,
                $"i_file_acl {b} lies outside the volume");
            volume.ReadAt((long)b * bs, blockBuffer);
            directoryBytesRead += bs;
            Ext4Xattr.ReadBlock(blockBuffer, b, partitionStart + (long)b * bs, sb.HasMetadataCsum ? sb.ChecksumSeed : null, into, external);
        }
        if (external is null) return;
        foreach (var v in external)
        {
            var valueInode = ReadInode(v.Inode, inode.DeviceOffset);
            CorruptStructure.Check(valueInode.HasFlag(Ext4Inode.FlagEaInode) && valueInode.SizeBytes >= v.SizeBytes, $"inode {v.Inode}", valueInode.DeviceOffset,
                $"does not hold the {v.SizeBytes}-byte value of attribute '{v.Name}'");
            into[v.Name] = ReadFileBytes(valueInode, (int)v.SizeBytes);
        }
    }

    /// <summary>Reads the first <paramref name="length"/> bytes of a small file through its block map.</summary>
    byte[] ReadFileBytes(Ext4Inode inode, int length)
    {
        var result = new byte[length];
        runs.Clear();
        ulong limit = (ulong)((length + bs - 1) / bs);
        blockMap.GetRuns(inode, limit, runs);
        foreach (var r in runs)
        {
            for (ulong i = 0; i < r.Blocks && r.LogicalBlock + i < limit; i++)
            {
                long off = (long)(r.LogicalBlock + i) * bs;
                int n = (int)Math.Min(bs, length - off);
                if (r.Unwritten) continue;
                volume.ReadAt((long)(r.PhysicalBlock + i) * bs, blockBuffer);
                directoryBytesRead += bs;
                blockBuffer.AsSpan(0, n).CopyTo(result.AsSpan((int)off));
            }
        }
        return result;
    }

    byte[] InlineBytes(Ext4Inode inode, ReadOnlyMemory<byte> tail, long maxBytes)
    {
        long size = inode.SizeBytes;
        CorruptStructure.Check(size <= Ext4Inode.BlockFieldBytes + tail.Length && size <= maxBytes, $"inode {inode.Number}", inode.DeviceOffset,
            $"inline data of {size} bytes does not fit i_block (60) + system.data ({tail.Length})");
        var data = new byte[size];
        int first = (int)Math.Min(size, Ext4Inode.BlockFieldBytes);
        inode.Block[..first].CopyTo(data);
        if (size > first) tail.Span[..(int)(size - first)].CopyTo(data.AsSpan(first));
        return data;
    }

    MapStream BuildStream(Ext4Inode inode, ReadOnlyMemory<byte> inlineTail)
    {
        bool encrypted = inode.HasFlag(Ext4Inode.FlagEncrypt);
        if (inode.HasFlag(Ext4Inode.FlagInlineData))
        {
            var data = InlineBytes(inode, inlineTail, int.MaxValue);
            return new MapStream("", inode.SizeBytes) { ResidentData = data, InitializedBytes = inode.SizeBytes, Encrypted = encrypted };
        }
        long size = inode.SizeBytes;
        runs.Clear();
        ulong limitBlocks = (ulong)((size + bs - 1) / bs);
        blockMap.GetRuns(inode, limitBlocks, runs);
        var extents = this.extents;
        extents.Clear();
        long cursor = 0;
        bool sparse = false;
        foreach (var r in runs)
        {
            long start = (long)r.LogicalBlock * bs;
            if (start >= size) break;
            long end = Math.Min((long)r.EndLogicalBlock * bs, size);
            if (start > cursor) { AddZero(extents, cursor, start - cursor); sparse = true; }
            if (r.Unwritten) AddZero(extents, start, end - start);
            else AddData(extents, start, end - start, (partitionStart + (long)r.PhysicalBlock * bs) / deviceBlock);
            cursor = end;
        }
        if (cursor < size) { AddZero(extents, cursor, size - cursor); sparse = true; }
        return new MapStream("", size) { InitializedBytes = size, Extents = extents.ToArray(), Sparse = sparse, Encrypted = encrypted };
    }

    void AddData(List<MapExtent> extents, long offset, long length, long lba)
    {
        if (extents.Count > 0)
        {
            var last = extents[^1];
            if (last.Kind == ExtentKind.Data && last.EndBytes == offset && last.LengthBytes % deviceBlock == 0
                && last.Lba + last.LengthBytes / deviceBlock == lba)
            {
                extents[^1] = MapExtent.Data(last.OffsetBytes, last.LengthBytes + length, last.Lba, deviceBlock);
                return;
            }
        }
        extents.Add(MapExtent.Data(offset, length, lba, deviceBlock));
    }

    static void AddZero(List<MapExtent> extents, long offset, long length)
    {
        if (extents.Count > 0 && extents[^1].Kind == ExtentKind.Zero && extents[^1].EndBytes == offset)
        {
            extents[^1] = MapExtent.Zero(extents[^1].OffsetBytes, extents[^1].LengthBytes + length);
            return;
        }
        extents.Add(MapExtent.Zero(offset, length));
    }

    string ReadSymlink(Ext4Inode inode, ReadOnlyMemory<byte> inlineTail)
    {
        long size = inode.SizeBytes;
        string name = $"inode {inode.Number}";
        CorruptStructure.Check(size > 0 && size <= Math.Min(MaxSymlinkBytes, bs), name, inode.DeviceOffset, $"symlink length {size} is invalid");
        byte[] target;
        if (inode.HasFlag(Ext4Inode.FlagInlineData))
            target = InlineBytes(inode, inlineTail, MaxSymlinkBytes);
        else
        {
            ulong eaBlocks = inode.FileAclBlock != 0 ? (ulong)(sb.ClusterSizeBytes / 512) : 0;
            bool fast = !inode.HasFlag(Ext4Inode.FlagEaInode) && inode.BlocksIn512 <= eaBlocks && !inode.HasFlag(Ext4Inode.FlagExtents);
            if (fast)
            {
                CorruptStructure.Check(size < Ext4Inode.BlockFieldBytes, name, inode.DeviceOffset, $"fast symlink of {size} bytes does not fit i_block");
                target = inode.Block[..(int)size].ToArray();
            }
            else
            {
                target = ReadFileBytes(inode, (int)size);
            }
        }
        return Encoding.UTF8.GetString(target);
    }

    /// <summary>
    /// Splits the directory into chunks of contiguous blocks and reads and checks
    /// every block (checksums and record chains). Returns whether the directory fits one chunk, and that chunk's bytes.
    /// </summary>
    (bool OneChunk, byte[]? Kept) PrepareDirectory(Ext4Inode dir, List<(ulong Logical, ulong Physical, int Blocks)> chunks)
    {
        chunks.Clear();
        bool hasFileType = (sb.Incompat & Ext4IncompatFeatures.FileType) != 0;
        if (dir.HasFlag(Ext4Inode.FlagInlineData)) return (true, null);
        runs.Clear();
        ulong limit = (ulong)((dir.SizeBytes + bs - 1) / bs);
        blockMap.GetRuns(dir, limit, runs);
        int maxChunkBlocks = DirectoryChunkBytes / bs;
        foreach (var r in runs)
        {
            if (r.Unwritten) continue;
            ulong blocks = Math.Min(r.EndLogicalBlock, limit) - Math.Min(r.LogicalBlock, limit);
            for (ulong done = 0; done < blocks;)
            {
                int n = (int)Math.Min((ulong)maxChunkBlocks, blocks - done);
                chunks.Add((r.LogicalBlock + done, r.PhysicalBlock + done, n));
                done += (ulong)n;
            }
        }
        bool one = chunks.Count <= 1;
        byte[]? kept = null;
        foreach (var c in chunks)
        {
            var data = ReadChunk(c.Physical, c.Blocks, one);
            if (one) kept = data;
            ValidateChunk(dir, c.Logical, c.Physical, data.AsSpan(0, c.Blocks * bs), hasFileType);
        }
        return (one, kept);
    }

    byte[]? chunkBuffer;

    byte[] ReadChunk(ulong physical, int blocks, bool keep)
    {
        int len = blocks * bs;
        byte[] buf = keep ? new byte[len] : (chunkBuffer is { } cb && cb.Length >= len ? cb : chunkBuffer = new byte[DirectoryChunkBytes]);
        volume.ReadAt((long)physical * bs, buf.AsSpan(0, len));
        directoryBytesRead += len;
        return buf;
    }

    void ValidateChunk(Ext4Inode dir, ulong logical, ulong physical, ReadOnlySpan<byte> data, bool hasFileType)
    {
        for (int i = 0; i * bs < data.Length; i++)
        {
            var block = data.Slice(i * bs, bs);
            long at = partitionStart + (long)(physical + (ulong)i) * bs;
            if (sb.HasMetadataCsum) Ext4DirectoryBlock.VerifyChecksum(block, at, dir.ChecksumSeed, dir.HasFlag(Ext4Inode.FlagIndex), logical + (ulong)i);
            Ext4DirectoryBlock.Read(block, at, hasFileType, null);
        }
    }

    /// <summary>Appends the names of the next chunk; returns whether more chunks follow.</summary>
    bool ReadDirectoryNames(Ext4Inode dir, List<(ulong Logical, ulong Physical, int Blocks)> chunks, ref int index, byte[]? kept, bool oneChunk,
        List<Ext4DirectoryEntry> into, string namePrefix)
    {
        bool hasFileType = (sb.Incompat & Ext4IncompatFeatures.FileType) != 0;
        if (dir.HasFlag(Ext4Inode.FlagInlineData))
        {
            var xattrs = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
            ReadXattrs(dir, xattrs);
            long iblockAt = dir.DeviceOffset + 0x28;
            // The first 4 bytes of i_block hold the parent's inode number; records follow.
            Ext4DirectoryBlock.Read(dir.Block[4..], iblockAt + 4, hasFileType, into, namePrefix);
            if (xattrs.TryGetValue("system.data", out var more) && more.Length > 0)
                Ext4DirectoryBlock.Read(more.Span, dir.DeviceOffset, hasFileType, into, namePrefix);
            return false;
        }
        if (index >= chunks.Count) return false;
        var c = chunks[index++];
        var data = oneChunk && kept is not null ? kept : ReadChunk(c.Physical, c.Blocks, false);
        for (int i = 0; i < c.Blocks; i++)
        {
            var block = data.AsSpan(i * bs, bs);
            long at = partitionStart + (long)(c.Physical + (ulong)i) * bs;
            if (!oneChunk)
            {
                if (sb.HasMetadataCsum) Ext4DirectoryBlock.VerifyChecksum(block, at, dir.ChecksumSeed, dir.HasFlag(Ext4Inode.FlagIndex), c.Logical + (ulong)i);
            }
            Ext4DirectoryBlock.Read(block, at, hasFileType, into, namePrefix);
        }
        return index < chunks.Count;
    }
}
