using System.Globalization;
using System.Text;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;

namespace Offhost.Formats.Tape.Pax;

/// <summary>What <see cref="PaxHeaderReader.Push"/> found.</summary>
public enum PaxHeaderStep
{
    /// <summary>More header bytes are needed: push <see cref="PaxHeaderReader.NeededBytes"/> more.</summary>
    NeedMore,
    /// <summary>A member's headers are complete: <see cref="PaxHeaderReader.Member"/>; its data follows.</summary>
    Member,
    /// <summary>The end-of-archive marker (two zero blocks) was read.</summary>
    EndOfArchive,
}

/// <summary>
/// Incremental decoder of pax / ustar / GNU sparse 1.0 member headers. The caller pushes exactly
/// <see cref="NeededBytes"/> bytes at a time (always whole 512-byte blocks, at most
/// <see cref="MaxExtendedHeaderBytes"/>), so it can read an archive sequentially from tape without holding more
/// than one member's headers. Every length read from the input is bounded before anything is allocated; bad input
/// raises <see cref="CorruptStructureException"/> naming the structure and its archive byte offset.
/// Pure (no I/O); not thread-safe: one reader per archive pass.
/// </summary>
public sealed class PaxHeaderReader
{
    /// <summary>Bound on one member's pax extended header (the writer's own bound).</summary>
    public const int MaxExtendedHeaderBytes = PaxEntryEncoder.MaxExtendedHeaderBytes;

    /// <summary>Bound on a GNU sparse 1.0 map (decimal text before the data).</summary>
    public const int MaxSparseMapBytes = 16 * 1024 * 1024;

    enum State { Start, SecondZero, ExtendedBody, Ustar, SparseMap }

    State state = State.Start;
    long memberStart = -1;
    long nextOffset = -1;
    List<KeyValuePair<string, byte[]>>? extended;
    int extendedBytes;
    byte[]? sparseText;
    int sparseTextBytes;
    PaxMemberHeader? pending;
    bool global;

    /// <summary>Bytes to push next: a multiple of 512.</summary>
    public int NeededBytes { get; private set; } = PaxLayout.BlockBytes;

    /// <summary>The member completed by the last <see cref="PaxHeaderStep.Member"/> step.</summary>
    public PaxMemberHeader? Member { get; private set; }

    /// <summary>Pushes the next <see cref="NeededBytes"/> bytes of the archive, which start at <paramref name="archiveOffsetBytes"/>.</summary>
    public PaxHeaderStep Push(ReadOnlySpan<byte> bytes, long archiveOffsetBytes)
    {
        if (bytes.Length != NeededBytes) throw new ArgumentException($"pushed {bytes.Length} bytes, {NeededBytes} needed", nameof(bytes));
        if (nextOffset >= 0 && archiveOffsetBytes != nextOffset && state != State.Start)
            throw new ArgumentException($"bytes at {archiveOffsetBytes} pushed where {nextOffset} was expected", nameof(archiveOffsetBytes));
        nextOffset = archiveOffsetBytes + bytes.Length;
        switch (state)
        {
            case State.Start:
                memberStart = archiveOffsetBytes;
                if (IsZero(bytes)) { state = State.SecondZero; return PaxHeaderStep.NeedMore; }
                return Header(bytes, archiveOffsetBytes);
            case State.SecondZero:
                CorruptStructure.Check(IsZero(bytes), "end-of-archive marker", archiveOffsetBytes,
                    "a zero block is followed by a non-zero block; the archive has a hole or a damaged header");
                Reset();
                return PaxHeaderStep.EndOfArchive;
            case State.ExtendedBody:
                extended = PaxRecords.Parse(bytes[..extendedBytes], archiveOffsetBytes);
                // Global headers carry archive-wide defaults this program never writes; they are checked, then ignored.
                if (global) { Reset(); return PaxHeaderStep.NeedMore; }
                state = State.Ustar;
                NeededBytes = PaxLayout.BlockBytes;
                return PaxHeaderStep.NeedMore;
            case State.Ustar:
                return Header(bytes, archiveOffsetBytes);
            case State.SparseMap:
                return SparseMapBlock(bytes, archiveOffsetBytes);
            default:
                throw new InvalidOperationException();
        }
    }

    void Reset()
    {
        state = State.Start;
        NeededBytes = PaxLayout.BlockBytes;
        extended = null;
        extendedBytes = 0;
        sparseText = null;
        sparseTextBytes = 0;
        pending = null;
        global = false;
    }

    static bool IsZero(ReadOnlySpan<byte> b) => !b.ContainsAnyExcept((byte)0);

    PaxHeaderStep Header(ReadOnlySpan<byte> block, long at)
    {
        const string S = "ustar header";
        CheckChecksum(block, at);
        byte type = block[156];
        long size = Number(block.Slice(124, 12), at + 124, "size");
        if (type is (byte)'x' or (byte)'g')
        {
            CorruptStructure.Check(state == State.Start, S, at, "a pax extended header follows another extended header");
            if (size > MaxExtendedHeaderBytes) CorruptStructure.Throw("pax extended header", at + 124, $"{size} bytes exceeds the {MaxExtendedHeaderBytes}-byte bound");
            global = type == (byte)'g';
            extendedBytes = (int)size;
            NeededBytes = (int)PaxLayout.RoundUpToBlock(size);
            extended = [];
            if (NeededBytes > 0) state = State.ExtendedBody;
            else if (global) Reset();
            else { state = State.Ustar; NeededBytes = PaxLayout.BlockBytes; }
            return PaxHeaderStep.NeedMore;
        }

        var records = extended ?? [];
        string name = Text(block[..100]), prefix = Text(block.Slice(345, 155));
        bool ustar = block.Slice(257, 6).SequenceEqual("ustar\0"u8);
        string path = ustar && prefix.Length > 0 ? prefix + "/" + name : name;
        string link = Text(block.Slice(157, 100));
        uint mode = (uint)(Number(block.Slice(100, 8), at + 100, "mode") & 0xFFF);
        long uid = Number(block.Slice(108, 8), at + 108, "uid");
        long gid = Number(block.Slice(116, 8), at + 116, "gid");
        long mtime = Number(block.Slice(136, 12), at + 136, "mtime");
        string? uname = NullIfEmpty(Text(block.Slice(265, 32)));
        string? gname = NullIfEmpty(Text(block.Slice(297, 32)));
        MapTime? modified = new MapTime(mtime, 0), accessed = null, changed = null;
        var xattrs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        long? devMajor = null, devMinor = null;
        bool socket = false;
        string? sparseName = null;
        long? realSize = null;
        bool sparse = false;
        long recordsAt = memberStart + PaxLayout.BlockBytes;
        foreach (var (key, value) in records)
        {
            switch (key)
            {
                case "path": path = Utf8(value, recordsAt, key); break;
                case "linkpath": link = Utf8(value, recordsAt, key); break;
                case "size": size = Decimal(value, recordsAt, key); break;
                case "uid": uid = Decimal(value, recordsAt, key); break;
                case "gid": gid = Decimal(value, recordsAt, key); break;
                case "uname": uname = Utf8(value, recordsAt, key); break;
                case "gname": gname = Utf8(value, recordsAt, key); break;
                case "mtime": modified = Time(value, recordsAt, key); break;
                case "atime": accessed = Time(value, recordsAt, key); break;
                case "ctime": changed = Time(value, recordsAt, key); break;
                case "GNU.sparse.major":
                    CorruptStructure.Check(Decimal(value, recordsAt, key) == 1, "pax extended header", recordsAt, "only GNU sparse format 1.0 is supported");
                    sparse = true;
                    break;
                case "GNU.sparse.minor": break;
                case "GNU.sparse.name": sparseName = Utf8(value, recordsAt, key); break;
                case "GNU.sparse.realsize": realSize = Decimal(value, recordsAt, key); break;
                case PaxEntryEncoder.DevMajorKeyword: devMajor = Decimal(value, recordsAt, key); break;
                case PaxEntryEncoder.DevMinorKeyword: devMinor = Decimal(value, recordsAt, key); break;
                case PaxEntryEncoder.FileTypeKeyword: socket = Encoding.ASCII.GetString(value) == PaxEntryEncoder.SocketFileType; break;
                default:
                    if (key.StartsWith("SCHILY.xattr.", StringComparison.Ordinal))
                    {
                        string xname = DecodeXattrName(key["SCHILY.xattr.".Length..]);
                        CorruptStructure.Check(xname.Length > 0, "pax extended header", recordsAt, "xattr record without a name");
                        xattrs[xname] = value;
                    }
                    break;
            }
        }
        if (sparseName is not null) path = sparseName;
        CorruptStructure.Check(path.Length > 0, S, at, "member without a name");

        var kind = type switch
        {
            (byte)'5' => PaxEntryKind.Directory,
            (byte)'2' => PaxEntryKind.Symlink,
            (byte)'1' => PaxEntryKind.HardLink,
            (byte)'6' => PaxEntryKind.Fifo,
            (byte)'3' => PaxEntryKind.CharDevice,
            (byte)'4' => PaxEntryKind.BlockDevice,
            // A socket member that holds data is not one this program wrote: its data is kept as a file's.
            (byte)'0' or 0 when socket && size == 0 => PaxEntryKind.Socket,
            _ => PaxEntryKind.File,
        };
        DeviceNumber? device = null;
        if (PaxEntryKinds.HasDevice(kind))
        {
            // Only device members are read for these fields: other writers leave them empty or stale elsewhere.
            long major = devMajor ?? Number(block.Slice(329, 8), at + 329, "devmajor");
            long minor = devMinor ?? Number(block.Slice(337, 8), at + 337, "devminor");
            CorruptStructure.Check(major <= uint.MaxValue && minor <= uint.MaxValue, S, at + 329, $"device number {major},{minor} is out of range");
            device = new DeviceNumber((uint)major, (uint)minor);
        }
        if (kind == PaxEntryKind.Directory || path.EndsWith('/'))
        {
            if (path.EndsWith('/') && type is (byte)'0' or 0) kind = PaxEntryKind.Directory;
            path = path.TrimEnd('/');
            if (path.Length == 0) path = "/";
        }
        if (kind is PaxEntryKind.Symlink or PaxEntryKind.HardLink)
            CorruptStructure.Check(link.Length > 0, S, at + 157, $"{kind} member '{path}' has no link target");
        // Link members carry no data whatever their size field says (POSIX); skipping it would misalign.
        if (kind != PaxEntryKind.File) size = 0;
        if (sparse) CorruptStructure.Check(kind == PaxEntryKind.File, S, at, "a sparse member that is not a regular file");

        long ustarEnd = at + PaxLayout.BlockBytes;
        long dataArea = size;
        if (long.MaxValue - ustarEnd < PaxLayout.RoundUpToBlock(Math.Min(dataArea, long.MaxValue - PaxLayout.BlockBytes)))
            CorruptStructure.Throw(S, at + 124, $"size {dataArea} runs past any possible archive");
        var header = new PaxMemberHeader(path, kind, memberStart, new PaxMemberLayout(0, [], 0))
        {
            TypeFlag = type,
            SizeBytes = size,
            DataAreaBytes = dataArea,
            Sparse = sparse,
            Mode = mode,
            Uid = uid,
            Gid = gid,
            UserName = uname,
            GroupName = gname,
            Modified = modified,
            Accessed = accessed,
            Changed = changed,
            LinkTarget = kind is PaxEntryKind.Symlink or PaxEntryKind.HardLink ? link : null,
            Device = device,
            Xattrs = xattrs,
        };
        long totalBytes = ustarEnd - memberStart + PaxLayout.RoundUpToBlock(dataArea);

        if (sparse)
        {
            CorruptStructure.Check(realSize is >= 0, "pax extended header", recordsAt, "sparse member without a valid GNU.sparse.realsize");
            CorruptStructure.Check(dataArea >= PaxLayout.BlockBytes, S, at + 124, $"sparse member's data area of {dataArea} bytes cannot hold its map");
            pending = header with { SizeBytes = realSize!.Value, Layout = new PaxMemberLayout(0, [], totalBytes) };
            sparseText = null;
            sparseTextBytes = 0;
            state = State.SparseMap;
            NeededBytes = PaxLayout.BlockBytes;
            return PaxHeaderStep.NeedMore;
        }

        long headerBytes = ustarEnd - memberStart;
        IReadOnlyList<PaxDataSegment> segments = size > 0 ? [new PaxDataSegment(0, size, headerBytes)] : [];
        return Complete(header with { Layout = new PaxMemberLayout(headerBytes, segments, totalBytes) });
    }

    PaxHeaderStep Complete(PaxMemberHeader header)
    {
        Reset();
        Member = header;
        return PaxHeaderStep.Member;
    }

    PaxHeaderStep SparseMapBlock(ReadOnlySpan<byte> block, long at)
    {
        var h = pending!;
        long mapBlocksSoFar = sparseTextBytes + PaxLayout.BlockBytes;
        if (mapBlocksSoFar > MaxSparseMapBytes || mapBlocksSoFar > h.DataAreaBytes)
            CorruptStructure.Throw("GNU sparse map", at, $"the map does not end within {Math.Min(MaxSparseMapBytes, h.DataAreaBytes)} bytes");
        if (sparseText is null || sparseText.Length < sparseTextBytes + block.Length)
        {
            var grown = new byte[Math.Max(PaxLayout.BlockBytes * 2, (sparseText?.Length ?? 0) * 2)];
            sparseText?.AsSpan(0, sparseTextBytes).CopyTo(grown);
            sparseText = grown;
        }
        block.CopyTo(sparseText.AsSpan(sparseTextBytes));
        sparseTextBytes += block.Length;

        long mapStart = h.ArchiveOffsetBytes + h.Layout.TotalBytes - PaxLayout.RoundUpToBlock(h.DataAreaBytes);
        var map = TryParseSparseMap(sparseText.AsSpan(0, sparseTextBytes), mapStart, h.SizeBytes);
        if (map is null) { NeededBytes = PaxLayout.BlockBytes; return PaxHeaderStep.NeedMore; }

        long ustarEnd = mapStart - h.ArchiveOffsetBytes;
        long headerBytes = ustarEnd + sparseTextBytes;
        var segments = new List<PaxDataSegment>(map.Count);
        long pos = headerBytes;
        long dataEnd = ustarEnd + h.DataAreaBytes;
        foreach (var s in map)
        {
            if (s.LengthBytes == 0) continue;
            long padded = PaxLayout.RoundUpToBlock(s.LengthBytes);
            if (pos + s.LengthBytes > dataEnd)
                CorruptStructure.Throw("GNU sparse map", mapStart, $"ranges need more than the {h.DataAreaBytes}-byte data area");
            segments.Add(new PaxDataSegment(s.OffsetBytes, s.LengthBytes, pos));
            pos += padded;
        }
        return Complete(h with { Layout = new PaxMemberLayout(headerBytes, segments, h.Layout.TotalBytes) });
    }

    /// <summary>Parses the decimal map "COUNT\n(OFFSET\nLENGTH\n)*"; null when the text so far ends before the map does.</summary>
    static List<SparseSegment>? TryParseSparseMap(ReadOnlySpan<byte> text, long at, long realSizeBytes)
    {
        const string S = "GNU sparse map";
        int pos = 0;
        long? count = NextLine(text, ref pos, at);
        if (count is null) return null;
        // Each range needs at least four bytes of text ("0\n0\n"), which bounds the count by the map bound.
        if (count < 0 || count > MaxSparseMapBytes / 4) CorruptStructure.Throw(S, at, $"range count {count} out of range");
        var list = new List<SparseSegment>();
        long prevEnd = 0;
        for (long i = 0; i < count; i++)
        {
            long? offset = NextLine(text, ref pos, at);
            if (offset is null) return null;
            long? length = NextLine(text, ref pos, at);
            if (length is null) return null;
            if (offset < prevEnd || length < 0 || offset > realSizeBytes || length > realSizeBytes - offset)
                CorruptStructure.Throw(S, at + pos, $"range {i} [{offset}, +{length}) is unsorted, overlapping or past the real size {realSizeBytes}");
            list.Add(new SparseSegment(offset.Value, length.Value));
            prevEnd = offset.Value + length.Value;
        }
        return list;
    }

    static long? NextLine(ReadOnlySpan<byte> text, ref int pos, long at)
    {
        int nl = text[pos..].IndexOf((byte)'\n');
        if (nl < 0)
        {
            // A line longer than any decimal long, or text running into zero padding, is damage, not "need more".
            if (text.Length - pos > 20 || text[pos..].IndexOf((byte)0) >= 0) CorruptStructure.Throw("GNU sparse map", at + pos, "number without newline");
            return null;
        }
        var digits = text.Slice(pos, nl);
        if (digits.Length is 0 or > 19 || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long v))
            return CorruptStructure.Throw<long>("GNU sparse map", at + pos, "not a decimal number");
        pos += nl + 1;
        return v;
    }

    static void CheckChecksum(ReadOnlySpan<byte> block, long at)
    {
        long stored = Number(block.Slice(148, 8), at + 148, "checksum");
        long unsignedSum = 0, signedSum = 0;
        for (int i = 0; i < PaxLayout.BlockBytes; i++)
        {
            byte b = i is >= 148 and < 156 ? (byte)' ' : block[i];
            unsignedSum += b;
            signedSum += (sbyte)b;
        }
        if (stored != unsignedSum && stored != signedSum)
        {
            bool magic = block.Slice(257, 5).SequenceEqual("ustar"u8);
            CorruptStructure.Throw("ustar header", at, magic
                ? $"checksum {stored} does not match the header's bytes ({unsignedSum})"
                : "not a tar header (no ustar magic, bad checksum)");
        }
    }

    /// <summary>An octal field (NUL/space terminated) or GNU base-256 (high bit of the first byte set).</summary>
    static long Number(ReadOnlySpan<byte> field, long at, string what)
    {
        if ((field[0] & 0x80) != 0)
        {
            CorruptStructure.Check((field[0] & 0x40) == 0, "ustar header", at, $"{what} is a negative base-256 number");
            long v = field[0] & 0x3F;
            for (int i = 1; i < field.Length; i++)
            {
                if (v > (long.MaxValue >> 8)) CorruptStructure.Throw("ustar header", at, $"{what} base-256 number overflows");
                v = (v << 8) | field[i];
            }
            return v;
        }
        int p = 0;
        while (p < field.Length && field[p] == (byte)' ') p++;
        long value = 0;
        int digits = 0;
        for (; p < field.Length && field[p] is >= (byte)'0' and <= (byte)'7'; p++, digits++)
        {
            if (value > (long.MaxValue >> 3)) CorruptStructure.Throw("ustar header", at, $"{what} overflows");
            value = (value << 3) | (uint)(field[p] - '0');
        }
        for (; p < field.Length; p++)
            if (field[p] is not (0 or (byte)' ')) CorruptStructure.Throw("ustar header", at, $"{what} field is not octal");
        return value;
    }

    static string Text(ReadOnlySpan<byte> field)
    {
        int nul = field.IndexOf((byte)0);
        var s = nul < 0 ? field : field[..nul];
        return Encoding.UTF8.GetString(s);
    }

    static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    static string Utf8(byte[] value, long at, string key)
    {
        string s;
        try { s = new UTF8Encoding(false, true).GetString(value); }
        catch (DecoderFallbackException) { return CorruptStructure.Throw<string>("pax extended header", at, $"{key} is not valid UTF-8"); }
        if (s.Contains('\0')) CorruptStructure.Throw("pax extended header", at, $"{key} contains NUL");
        return s;
    }

    static long Decimal(byte[] value, long at, string key)
    {
        if (value.Length is 0 or > 19 || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long v))
            return CorruptStructure.Throw<long>("pax extended header", at, $"{key} is not a non-negative decimal number");
        return v;
    }

    /// <summary>A pax time "[-]SECONDS[.FRACTION]" as <see cref="MapTime"/> (floor seconds, non-negative nanoseconds).</summary>
    static MapTime Time(byte[] value, long at, string key)
    {
        var s = value.AsSpan();
        bool negative = s.Length > 0 && s[0] == (byte)'-';
        if (negative) s = s[1..];
        int dot = s.IndexOf((byte)'.');
        var whole = dot < 0 ? s : s[..dot];
        var frac = dot < 0 ? [] : s[(dot + 1)..];
        if (whole.Length is 0 or > 18 || !long.TryParse(whole, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds))
            return CorruptStructure.Throw<MapTime>("pax extended header", at, $"{key} is not a time");
        int nanos = 0, scale = 100_000_000;
        foreach (byte b in frac)
        {
            if (b is < (byte)'0' or > (byte)'9') return CorruptStructure.Throw<MapTime>("pax extended header", at, $"{key} is not a time");
            nanos += (b - '0') * scale;
            scale /= 10;
        }
        if (!negative) return new MapTime(seconds, nanos);
        return nanos == 0 ? new MapTime(-seconds, 0) : new MapTime(-seconds - 1, 1_000_000_000 - nanos);
    }

    static string DecodeXattrName(string s) => s.Replace("%3D", "=", StringComparison.Ordinal).Replace("%25", "%", StringComparison.Ordinal);

    /// <summary>Decodes every member header of an in-memory archive (data skipped) up to the end-of-archive marker.
    /// Throws <see cref="CorruptStructureException"/> when the archive ends early or is damaged.</summary>
    public static List<PaxMemberHeader> ReadAll(ReadOnlySpan<byte> archive, int maxMembers = 1_000_000)
    {
        var reader = new PaxHeaderReader();
        var members = new List<PaxMemberHeader>();
        long at = 0;
        while (true)
        {
            int need = reader.NeededBytes;
            if (archive.Length - at < need) CorruptStructure.Truncated("tar archive", at, need, archive.Length - at);
            var step = reader.Push(archive.Slice((int)at, need), at);
            at += need;
            if (step == PaxHeaderStep.EndOfArchive) return members;
            if (step != PaxHeaderStep.Member) continue;
            var m = reader.Member!;
            if (members.Count >= maxMembers) CorruptStructure.Throw("tar archive", m.ArchiveOffsetBytes, $"more than {maxMembers} members");
            members.Add(m);
            long next = m.ArchiveOffsetBytes + m.Layout.TotalBytes;
            if (next > archive.Length) CorruptStructure.Truncated("tar member data", at, next - at, archive.Length - at);
            at = next;
        }
    }
}
