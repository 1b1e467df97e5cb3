using System.Text;
using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Formats.Ntfs;
using Offhost.Formats.Tape.Pax;

namespace Offhost.Server.Planning;

/// <summary>Choices that shape the backup image.</summary>
public sealed record ArchivePlanOptions
{
    /// <summary>Prefix for member names (e.g. <c>vol2/</c> when one backup holds several volumes); empty for one volume.</summary>
    public string PathPrefix { get; init; } = "";
    /// <summary>Files whose zero ranges add up to no more than this are stored plainly, zeros inline; larger holes make a GNU sparse member.</summary>
    public long InlineZeroLimitBytes { get; init; } = 64 * 1024;
    /// <summary>Alternate data streams up to this size travel as <c>SCHILY.xattr.user.NAME</c> records (how ntfs-3g exposes
    /// them, so tar restores them as streams onto an ntfs-3g mount); larger ones get their own member <c>PATH:NAME</c>, because
    /// most file systems tar may extract to cannot hold an extended attribute larger than one block.</summary>
    public int AdsInHeaderLimitBytes { get; init; } = DefaultAdsInHeaderLimitBytes;

    public const int DefaultAdsInHeaderLimitBytes = 3072;
    /// <summary>Largest block count of one block → stream step (a segment descriptor holds at most 65535).</summary>
    public int MaxBlocksPerOp { get; init; } = 8192;
}

/// <summary>
/// Turns a storage map into the members of the pax backup image (docs/formats/tape-format.md) and, for each,
/// the copy steps that produce its bytes on the stream device. Headers, resident data and padding are inline
/// data; file bodies are ranges of the source device that the data mover copies directly. Zero ranges never
/// cause a device read. The only device reads made here are for NTFS compressed units (which must be
/// decompressed for the archive to hold the file's real bytes) and small alternate data streams carried in
/// the header; both run on the backup host, never on the application host.
/// Not thread-safe; one planner per archive.
/// </summary>
public sealed class ArchivePlanner(VolumeInfo volume, IBlockSource? source, ArchivePlanOptions options)
{
    readonly int blockSize = volume.BlockSizeBytes;
    readonly Dictionary<ulong, string> firstPathById = [];
    readonly List<(long Start, long End)> verbatim = [];   // device byte ranges whose blocks a file member copies as they are

    /// <summary>Device byte ranges (whole blocks) that file members copy verbatim from the device, in plan order.
    /// A volume restore writes them back from those members; everything else of the volume travels in the
    /// volume's remainder member (<see cref="PlanVolumeRemainder"/>).</summary>
    public IReadOnlyList<(long Start, long End)> VerbatimRanges => verbatim;

    /// <summary>Archive bytes planned so far: the offset of the next member.</summary>
    public long ArchiveOffsetBytes { get; private set; }

    public IEnumerable<PlannedMember> Plan(IEnumerable<MapEntry> entries, CancellationToken cancellationToken)
    {
        foreach (var entry in entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (entry.Kind == MapEntryKind.Unmappable) continue;
            if (entry.Path == "/") continue;
            foreach (var m in PlanEntry(entry)) yield return m;
        }
    }

    /// <summary>The end-of-archive marker as the final step.</summary>
    public CopyOp EndOfArchive()
    {
        ArchiveOffsetBytes += PaxLayout.EndOfArchiveBytes;
        return new InlineOp(PaxLayout.EncodeEndOfArchive());
    }

    /// <summary>A member carrying bytes the server produces (the storage map itself, a volume's metadata).</summary>
    public PlannedMember PlanInlineFile(string path, ReadOnlyMemory<byte> data, MapTime modified)
    {
        var pax = new PaxEntry(options.PathPrefix + path.TrimStart('/'), PaxEntryKind.File) { SizeBytes = data.Length, Modified = modified, Mode = 0b110_100_100 };
        var encoded = PaxEntryEncoder.Encode(pax);
        long start = ArchiveOffsetBytes;
        var ops = new List<CopyOp> { new InlineOp(encoded.Header), new InlineOp(data), Padding(data.Length) };
        ArchiveOffsetBytes += encoded.Layout.TotalBytes;
        var stream = new PlannedStream("", data.Length, start, start + encoded.Layout.HeaderBytes,
            [new StoredRange(0, start + encoded.Layout.HeaderBytes, data.Length)]);
        return new PlannedMember(new MapEntry(MapEntryKind.File, path, 0) { SizeBytes = data.Length }, pax, start, encoded.Layout.TotalBytes, ops) { Streams = [stream] };
    }

    /// <summary>
    /// The volume's remainder: a GNU sparse member <c>.offhost/volume-N.remainder</c> as large as the volume,
    /// holding every block that no file member copied verbatim (file-system metadata, resident data, compressed
    /// units, and, without an allocation bitmap, free space). With the file members it lets a whole volume be
    /// restored block for block. Offsets inside it are byte offsets within the volume.
    /// </summary>
    /// <param name="allocated">The file system's allocated ranges (device bytes, ascending), from its allocation bitmap;
    /// null to keep every block. Space past the last allocation unit (NTFS's backup boot sector) is always kept.</param>
    public PlannedMember PlanVolumeRemainder(string path, MapTime modified, IReadOnlyList<(long StartBytes, long LengthBytes)>? allocated = null)
    {
        long volumeStart = volume.PartitionOffsetBytes, volumeEnd = volume.PartitionOffsetBytes + RemainderSizeBytes(volume) / blockSize * blockSize;
        var covered = verbatim.OrderBy(r => r.Start).ToList();
        var segments = new List<(long Start, long End)>();
        long at = volumeStart;
        foreach (var (start, end) in covered)
        {
            if (end <= at) continue;
            if (start > at) segments.Add((at, Math.Min(start, volumeEnd)));
            at = Math.Max(at, end);
            if (at >= volumeEnd) break;
        }
        if (at < volumeEnd) segments.Add((at, volumeEnd));
        if (allocated is not null) segments = Intersect(segments, WithTail(allocated, volumeStart, volumeEnd));

        long size = volumeEnd - volumeStart;
        var entry = new MapEntry(MapEntryKind.File, path, 0)
        {
            SizeBytes = size,
            Modified = modified,
            Streams = [new MapStream("", size)
            {
                InitializedBytes = size,
                Extents = RemainderExtents(segments, volumeStart, size).ToArray(),
            }],
        };
        var pax = new PaxEntry(options.PathPrefix + path.TrimStart('/'), PaxEntryKind.File) { Modified = modified, Mode = 0b110_000_000 };
        var saved = verbatim.Count;
        var member = PlanFileMember(entry, pax, entry.Streams[0], forceSparse: true);
        verbatim.RemoveRange(saved, verbatim.Count - saved);   // the remainder is not a file member
        return member;
    }

    /// <summary>Allocated ranges rounded out to whole blocks, plus everything after the last allocation unit the
    /// file system counts (its bitmap does not cover it).</summary>
    List<(long Start, long End)> WithTail(IReadOnlyList<(long StartBytes, long LengthBytes)> allocated, long volumeStart, long volumeEnd)
    {
        var result = new List<(long Start, long End)>();
        foreach (var (start, length) in allocated)
        {
            long a = Math.Max(volumeStart, start / blockSize * blockSize), b = Math.Min(volumeEnd, (start + length + blockSize - 1) / blockSize * blockSize);
            if (b <= a) continue;
            if (result.Count > 0 && result[^1].End >= a) result[^1] = (result[^1].Start, Math.Max(result[^1].End, b));
            else result.Add((a, b));
        }
        long countedEnd = volume.PartitionOffsetBytes + volume.SizeBytes / volume.ClusterSizeBytes * volume.ClusterSizeBytes;
        if (countedEnd < volumeEnd) result.Add((Math.Max(countedEnd, result.Count > 0 ? result[^1].End : volumeStart), volumeEnd));
        return result;
    }

    static List<(long Start, long End)> Intersect(List<(long Start, long End)> a, List<(long Start, long End)> b)
    {
        var result = new List<(long Start, long End)>();
        int i = 0, j = 0;
        while (i < a.Count && j < b.Count)
        {
            long start = Math.Max(a[i].Start, b[j].Start), end = Math.Min(a[i].End, b[j].End);
            if (end > start) result.Add((start, end));
            if (a[i].End < b[j].End) i++; else j++;
        }
        return result;
    }

    /// <summary>The bytes a volume occupies on its device. NTFS counts one sector less than it uses: its backup
    /// boot sector lies in the sector after the last one the boot sector counts.</summary>
    public static long RemainderSizeBytes(VolumeInfo volume) =>
        volume.FileSystem == "ntfs" ? volume.SizeBytes + volume.BlockSizeBytes : volume.SizeBytes;

    IEnumerable<MapExtent> RemainderExtents(List<(long Start, long End)> segments, long volumeStart, long size)
    {
        long pos = 0;
        foreach (var (start, end) in segments)
        {
            long off = start - volumeStart;
            if (off > pos) yield return MapExtent.Zero(pos, off - pos);
            yield return MapExtent.Data(off, end - start, start / blockSize, blockSize);
            pos = end - volumeStart;
        }
        if (pos < size) yield return MapExtent.Zero(pos, size - pos);
    }

    IEnumerable<PlannedMember> PlanEntry(MapEntry entry)
    {
        string name = options.PathPrefix + entry.Path.TrimStart('/');
        var basePax = BasePax(entry, name);

        if (entry.Kind == MapEntryKind.Directory)
        {
            // A directory's alternate data streams travel the same way as a file's.
            var (dirXattrs, dirHeaderStreams, dirBigStreams) = SplitStreams(entry, basePax);
            var dir = Emit(entry, basePax with { Kind = PaxEntryKind.Directory, Xattrs = dirXattrs }, []);
            yield return dir with { Streams = HeaderStreams(dirHeaderStreams, dir.MemberOffsetBytes) };
            foreach (var m in StreamMembers(entry, basePax, name, dirBigStreams)) yield return m;
            yield break;
        }
        if (entry.Kind == MapEntryKind.Symlink)
        {
            yield return Emit(entry, basePax with { Kind = PaxEntryKind.Symlink, LinkTarget = entry.Target ?? "" }, []);
            yield break;
        }

        // A hard-linked file appears once with its data; its other names are hard-link members.
        if (firstPathById.TryGetValue(entry.Id, out var earlier) && entry.Id != 0)
        {
            yield return Emit(entry, basePax with { Kind = PaxEntryKind.HardLink, LinkTarget = earlier }, []);
            yield break;
        }
        if (entry.Id != 0) firstPathById[entry.Id] = name;

        if (entry.Kind == MapEntryKind.Special)
        {
            // No data: the member is the file's type, metadata and (for devices) its device number.
            var kind = PaxEntryKinds.Of(entry.Special ?? throw new InvalidDataException($"{entry.Path}: special entry without its kind"));
            DeviceNumber? device = PaxEntryKinds.HasDevice(kind)
                ? entry.Device ?? throw new InvalidDataException($"{entry.Path}: device entry without a device number")
                : null;
            yield return Emit(entry, basePax with { Kind = kind, Device = device }, []);
        }
        else
        {
            var data = entry.Streams.FirstOrDefault(s => s.Name.Length == 0);
            var (xattrs, headerStreams, bigStreams) = SplitStreams(entry, basePax);
            var member = PlanFileMember(entry, basePax with { Xattrs = xattrs }, data);
            yield return member with { Streams = [.. member.Streams, .. HeaderStreams(headerStreams, member.MemberOffsetBytes)] };
            foreach (var m in StreamMembers(entry, basePax, name, bigStreams)) yield return m;
        }

        // The file's other names follow as hard-link members pointing at the member that holds the data.
        foreach (var link in entry.Links)
        {
            string linkName = options.PathPrefix + link.TrimStart('/');
            yield return Emit(entry with { Path = link }, basePax with { Path = linkName, Kind = PaxEntryKind.HardLink, LinkTarget = name, Xattrs = new Dictionary<string, ReadOnlyMemory<byte>>() }, []);
        }
    }

    /// <summary>Splits an entry's alternate data streams: small ones become <c>user.NAME</c> xattrs of its header, large ones members of their own.</summary>
    (Dictionary<string, ReadOnlyMemory<byte>> Xattrs, List<(MapStream Stream, ReadOnlyMemory<byte> Bytes)> InHeader, List<MapStream> Big) SplitStreams(MapEntry entry, PaxEntry basePax)
    {
        var xattrs = new Dictionary<string, ReadOnlyMemory<byte>>(basePax.Xattrs);
        var inHeader = new List<(MapStream, ReadOnlyMemory<byte>)>();
        var big = new List<MapStream>();
        foreach (var ads in entry.Streams.Where(s => s.Name.Length > 0))
        {
            if (ads.SizeBytes <= options.AdsInHeaderLimitBytes)
            {
                var bytes = ReadWhole(ads, entry);
                xattrs["user." + ads.Name] = bytes;
                inHeader.Add((ads, bytes));
            }
            else big.Add(ads);
        }
        return (xattrs, inHeader, big);
    }

    static PlannedStream[] HeaderStreams(List<(MapStream Stream, ReadOnlyMemory<byte> Bytes)> inHeader, long memberOffset) =>
        inHeader.Select(h => new PlannedStream(h.Stream.Name, h.Stream.SizeBytes, memberOffset, memberOffset, []) { InExtendedHeader = true, InlineBytes = h.Bytes }).ToArray();

    /// <summary>Members <c>PATH:NAME</c> for alternate data streams too large for the header.</summary>
    IEnumerable<PlannedMember> StreamMembers(MapEntry entry, PaxEntry basePax, string name, List<MapStream> big)
    {
        foreach (var ads in big)
        {
            var adsPax = basePax with { Path = name + ":" + ads.Name, Kind = PaxEntryKind.File, Xattrs = new Dictionary<string, ReadOnlyMemory<byte>>(), NtfsAttributes = null };
            var adsMember = PlanFileMember(entry, adsPax, ads);
            yield return adsMember with { Streams = [adsMember.Streams[0] with { Name = ads.Name }] };
        }
    }

    /// <summary>The permission bits of a member whose file system keeps none (NTFS): directories 0755, symbolic links
    /// and junctions 0777 (as every POSIX system shows a link), everything else 0644.</summary>
    public static uint DefaultMode(MapEntryKind kind) => kind switch
    {
        MapEntryKind.Directory => 0b111_101_101u,
        MapEntryKind.Symlink => 0b111_111_111u,
        _ => 0b110_100_100u,
    };

    PaxEntry BasePax(MapEntry entry, string name)
    {
        uint mode = entry.Mode is uint m ? m & 0xFFF : DefaultMode(entry.Kind);
        var pax = new PaxEntry(name, PaxEntryKind.File)
        {
            Mode = mode,
            Uid = entry.Uid ?? 0,
            Gid = entry.Gid ?? 0,
            Modified = entry.Modified,
            Accessed = entry.Accessed,
            Changed = entry.Changed,
            Xattrs = entry.Xattrs,
        };
        if (volume.FileSystem == "ntfs")
        {
            pax = pax with { NtfsAttributes = NtfsAttributeBits(entry.Attributes), NtfsCreated = entry.Created };
        }
        return pax;
    }

    PlannedMember Emit(MapEntry entry, PaxEntry pax, IReadOnlyList<PlannedStream> streams)
    {
        var encoded = PaxEntryEncoder.Encode(pax);
        long start = ArchiveOffsetBytes;
        ArchiveOffsetBytes += encoded.Layout.TotalBytes;
        return new PlannedMember(entry, pax, start, encoded.Layout.TotalBytes, [new InlineOp(encoded.Header)]) { Streams = streams };
    }

    PlannedMember PlanFileMember(MapEntry entry, PaxEntry pax, MapStream? stream, bool forceSparse = false)
    {
        long start = ArchiveOffsetBytes;
        if (stream is null || stream.SizeBytes == 0)
        {
            var empty = Emit(entry, pax with { SizeBytes = 0 }, []);
            return empty with { Streams = [new PlannedStream(stream?.Name ?? "", 0, start, start + empty.TotalBytes, [])] };
        }

        var pieces = Pieces(stream, entry).ToList();   // data pieces in stream order; gaps read as zeros
        long zeroBytes = stream.SizeBytes - pieces.Sum(p => p.Length);
        bool sparse = forceSparse || zeroBytes > options.InlineZeroLimitBytes;

        PaxEntry filePax;
        if (sparse)
        {
            var map = MergeSegments(pieces).Select(s => new SparseSegment(s.Offset, s.Length)).ToList();
            filePax = pax with { Kind = PaxEntryKind.File, SizeBytes = stream.SizeBytes, SparseMap = map };
        }
        else
        {
            filePax = pax with { Kind = PaxEntryKind.File, SizeBytes = stream.SizeBytes };
        }

        var encoded = PaxEntryEncoder.Encode(filePax);
        var ops = new List<CopyOp> { new InlineOp(encoded.Header) };
        var ranges = new List<StoredRange>();
        long memberPos = encoded.Layout.HeaderBytes;   // bytes of this member emitted so far

        if (sparse)
        {
            int cursor = 0;   // segments and pieces are both in stream order: each segment's search starts where the last one's did
            foreach (var seg in encoded.Layout.Segments)
            {
                if (seg.MemberOffsetBytes > memberPos) { ops.Add(Zeros(seg.MemberOffsetBytes - memberPos)); memberPos = seg.MemberOffsetBytes; }
                long emitted = EmitRange(pieces, ref cursor, seg.FileOffsetBytes, seg.LengthBytes, seg.PaddedBytes, ops);
                ranges.Add(new StoredRange(seg.FileOffsetBytes, start + memberPos, seg.LengthBytes));
                memberPos += emitted;
            }
        }
        else
        {
            ranges.Add(new StoredRange(0, start + memberPos, stream.SizeBytes));
            int cursor = 0;
            memberPos += EmitRange(pieces, ref cursor, 0, stream.SizeBytes, PaxLayout.RoundUpToBlock(stream.SizeBytes), ops);
        }
        if (memberPos < encoded.Layout.TotalBytes) ops.Add(Zeros(encoded.Layout.TotalBytes - memberPos));
        else if (memberPos > encoded.Layout.TotalBytes)
            throw new InvalidOperationException($"{entry.Path}: planned {memberPos} member bytes, layout has {encoded.Layout.TotalBytes}");

        ArchiveOffsetBytes += encoded.Layout.TotalBytes;
        var planned = new PlannedStream(stream.Name, stream.SizeBytes, start, start + encoded.Layout.HeaderBytes, ranges) { Sparse = sparse };
        return new PlannedMember(entry, filePax, start, encoded.Layout.TotalBytes, ops) { Streams = [planned] };
    }

    /// <summary>A piece of stream data: either on the device or bytes already in hand (decompressed or resident).</summary>
    readonly record struct Piece(long Offset, long Length, long DeviceByteOffset, ReadOnlyMemory<byte>? Bytes);

    IEnumerable<Piece> Pieces(MapStream stream, MapEntry entry)
    {
        if (stream.ResidentData is ReadOnlyMemory<byte> resident)
        {
            yield return new Piece(0, resident.Length, -1, resident);
            yield break;
        }
        foreach (var x in stream.Extents)
        {
            switch (x.Kind)
            {
                case ExtentKind.Data:
                    yield return new Piece(x.OffsetBytes, x.LengthBytes, x.Lba * blockSize, null);
                    break;
                case ExtentKind.Compressed:
                    yield return new Piece(x.OffsetBytes, x.LengthBytes, -1, Decompress(x, stream, entry));
                    break;
            }
        }
    }

    static IEnumerable<(long Offset, long Length)> MergeSegments(List<Piece> pieces)
    {
        long start = -1, end = -1;
        foreach (var p in pieces)
        {
            if (p.Offset == end) { end += p.Length; continue; }
            if (start >= 0) yield return (start, end - start);
            start = p.Offset; end = p.Offset + p.Length;
        }
        if (start >= 0) yield return (start, end - start);
    }

    /// <summary>Emits stream bytes [offset, offset+length) followed by padding up to <paramref name="paddedLength"/>.
    /// Returns the bytes emitted (= <paramref name="paddedLength"/>). When the last device piece ends the range on a
    /// block boundary of the stream, its final block is copied whole and its bytes past the data serve as the padding
    /// (tar ignores padding); otherwise padding is zeros. <paramref name="cursor"/>: the first piece that may still
    /// matter, advanced past those ending before <paramref name="offset"/> (ranges come in stream order; a sparse
    /// volume remainder is tens of thousands of them).</summary>
    long EmitRange(List<Piece> pieces, ref int cursor, long offset, long length, long paddedLength, List<CopyOp> ops)
    {
        long pos = offset, end = offset + length, emitted = 0;
        while (cursor < pieces.Count && pieces[cursor].Offset + pieces[cursor].Length <= pos) cursor++;
        for (int i = cursor; i < pieces.Count; i++)
        {
            var p = pieces[i];
            if (p.Offset + p.Length <= pos) continue;
            if (p.Offset >= end) break;
            if (p.Offset > pos) { ops.Add(Zeros(p.Offset - pos)); emitted += p.Offset - pos; pos = p.Offset; }
            long take = Math.Min(p.Offset + p.Length, end) - pos;
            long skip = pos - p.Offset;
            if (p.Bytes is ReadOnlyMemory<byte> bytes)
            {
                ops.Add(new InlineOp(bytes.Slice((int)skip, (int)take)));
                emitted += take;
            }
            else
            {
                long device = p.DeviceByteOffset + skip;
                bool lastOfRange = pos + take == end;
                long paddedTail = paddedLength - (emitted + take);
                if (device % blockSize == 0 && emitted % 512 == 0 && (take % blockSize == 0 || (lastOfRange && PadsExactly(take, paddedTail))))
                {
                    long blocks = (take + blockSize - 1) / blockSize;
                    AddBlocks(ops, device / blockSize, blocks);
                    verbatim.Add((device, device + blocks * blockSize));
                    emitted += blocks * blockSize;
                }
                else
                {
                    AddByteRange(ops, device, take);
                    emitted += take;
                }
            }
            pos += take;
        }
        if (pos < end) { ops.Add(Zeros(end - pos)); emitted += end - pos; }
        if (emitted < paddedLength) { ops.Add(Zeros(paddedLength - emitted)); emitted = paddedLength; }
        return emitted;
    }

    /// <summary>True when copying whole blocks for the last <paramref name="take"/> bytes yields exactly the member's padding.</summary>
    bool PadsExactly(long take, long paddedTail) => (take + blockSize - 1) / blockSize * blockSize - take == paddedTail;

    void AddBlocks(List<CopyOp> ops, long lba, long blocks)
    {
        while (blocks > 0)
        {
            long n = Math.Min(blocks, options.MaxBlocksPerOp);
            if (ops.Count > 0 && ops[^1] is BlocksOp prev && prev.Lba + prev.Blocks == lba && prev.Blocks + n <= options.MaxBlocksPerOp)
                ops[^1] = prev with { Blocks = prev.Blocks + n };
            else
                ops.Add(new BlocksOp(lba, n, blockSize));
            lba += n;
            blocks -= n;
        }
    }

    void AddByteRange(List<CopyOp> ops, long deviceByteOffset, long length)
    {
        const long MaxBytes = 32L << 20;
        while (length > 0)
        {
            long n = Math.Min(length, MaxBytes);
            ops.Add(new ByteRangeOp(deviceByteOffset / blockSize, (int)(deviceByteOffset % blockSize), n));
            deviceByteOffset += n;
            length -= n;
        }
    }

    static readonly ReadOnlyMemory<byte> ZeroBlock = new byte[64 * 1024];

    static CopyOp Zeros(long length) => length <= ZeroBlock.Length ? new InlineOp(ZeroBlock[..(int)length]) : new InlineOp(new byte[length]);

    static CopyOp Padding(long dataLength) => Zeros(PaxLayout.RoundUpToBlock(dataLength) - dataLength);

    ReadOnlyMemory<byte> Decompress(MapExtent x, MapStream stream, MapEntry entry)
    {
        long compressedBytes = x.Runs.Sum(r => r.Blocks) * blockSize;
        if (compressedBytes > stream.CompressionUnitBytes || x.LengthBytes > stream.CompressionUnitBytes || stream.CompressionUnitBytes <= 0)
            throw new CorruptStructureException($"compressed unit of {entry.Path}", (x.Runs.Count > 0 ? x.Runs[0].Lba : 0) * blockSize,
                $"{compressedBytes} stored bytes for a {stream.CompressionUnitBytes}-byte compression unit");
        if (source is null) return new byte[x.LengthBytes];   // layout only: the length is what matters
        var input = new byte[compressedBytes];
        int at = 0;
        foreach (var r in x.Runs)
        {
            source.ReadAt(r.Lba * blockSize, input.AsSpan(at, (int)(r.Blocks * blockSize)));
            at += (int)(r.Blocks * blockSize);
        }
        var output = new byte[stream.CompressionUnitBytes];
        int produced = Lznt1.Decompress(input, output);
        if (produced < x.LengthBytes) Array.Clear(output, produced, (int)x.LengthBytes - produced); // a short unit ends in zeros
        return output.AsMemory(0, (int)x.LengthBytes);
    }

    byte[] ReadWhole(MapStream s, MapEntry entry)
    {
        if (s.ResidentData is ReadOnlyMemory<byte> r) return r.ToArray();
        var bytes = new byte[s.SizeBytes];
        if (source is null) return bytes;                     // layout only
        foreach (var p in Pieces(s, entry))
        {
            if (p.Bytes is ReadOnlyMemory<byte> b) { b.Span.CopyTo(bytes.AsSpan((int)p.Offset)); continue; }
            long aligned = p.DeviceByteOffset / blockSize * blockSize;
            int lead = (int)(p.DeviceByteOffset - aligned);
            var buf = new byte[(lead + p.Length + blockSize - 1) / blockSize * blockSize];
            source.ReadAt(aligned, buf);
            buf.AsSpan(lead, (int)p.Length).CopyTo(bytes.AsSpan((int)p.Offset));
        }
        return bytes;
    }

    static readonly (string Name, uint Bit)[] NtfsBits =
    [
        ("readonly", 0x1), ("hidden", 0x2), ("system", 0x4), ("directory", 0x10), ("archive", 0x20), ("device", 0x40),
        ("normal", 0x80), ("temporary", 0x100), ("sparse", 0x200), ("reparse", 0x400), ("compressed", 0x800),
        ("offline", 0x1000), ("not_indexed", 0x2000), ("encrypted", 0x4000),
    ];

    /// <summary>NTFS attribute names of the map back to FILE_ATTRIBUTE_* bits.</summary>
    public static uint NtfsAttributeBits(IEnumerable<string> names)
    {
        uint bits = 0;
        foreach (var n in names)
            foreach (var (name, bit) in NtfsBits)
                if (string.Equals(n, name, StringComparison.Ordinal)) bits |= bit;
        return bits;
    }

    internal static string Utf8(ReadOnlySpan<byte> b) => Encoding.UTF8.GetString(b);
}
