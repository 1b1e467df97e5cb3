using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Pax;

namespace Offhost.Formats.Tape.Index;

/// <summary>
/// Decodes an index tape file's bytes (its records concatenated). Hostile-input safe: every length is checked
/// against the record and the remaining input before use, so allocations are bounded by the input size; errors
/// are <see cref="CorruptStructureException"/> with the byte offset within the index tape file. Thread-safe (stateless).
/// </summary>
public static class TapeIndexDecoder
{
    public static TapeIndex Decode(ReadOnlySpan<byte> index)
    {
        const string S = "tape index";
        if (index.Length < TapeIndexFormat.Magic.Length) CorruptStructure.Truncated(S, 0, TapeIndexFormat.Magic.Length, index.Length);
        CorruptStructure.Check(index.StartsWith(TapeIndexFormat.Magic), S, 0, "not an Offhost index (magic OFFHIDX missing)");
        int at = TapeIndexFormat.Magic.Length;
        byte type = NextRecord(index, ref at, out var payload, out int payloadAt);
        CorruptStructure.Check(type == TapeIndexFormat.HeaderRecord, "tape index header", payloadAt - TapeIndexFormat.RecordHeaderBytes, $"first record has type {type}, expected {TapeIndexFormat.HeaderRecord}");
        var header = ReadHeader(payload, payloadAt);
        var entries = new List<TapeIndexEntry>();
        while (true)
        {
            int recordAt = at;
            type = NextRecord(index, ref at, out payload, out payloadAt);
            if (type == TapeIndexFormat.EntryRecord) { entries.Add(ReadEntry(payload, payloadAt)); continue; }
            if (type != TapeIndexFormat.EndRecord) continue; // records of unknown type are skipped: later minor additions
            CorruptStructure.Check(payload.Length == 16, "tape index end record", recordAt, $"payload is {payload.Length} bytes, expected 16");
            long count = BinaryPrimitives.ReadInt64LittleEndian(payload);
            ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]);
            ulong actual = XxHash64.HashToUInt64(index[..recordAt]);
            CorruptStructure.Check(stored == actual, "tape index end record", recordAt + 13, $"xxHash64 {stored:X16} does not match the index bytes {actual:X16}");
            CorruptStructure.Check(count == entries.Count, "tape index end record", recordAt + 5, $"says {count} entries, found {entries.Count}");
            CorruptStructure.Check(at == index.Length, "tape index", at, $"{index.Length - at} bytes after the end record");
            return new TapeIndex(header, entries);
        }
    }

    /// <summary>Decodes only the magic and header record from the first bytes of an index tape file (e.g. its first
    /// record), without checking the whole-index checksum; for listings.</summary>
    public static TapeIndexHeader DecodeHeader(ReadOnlySpan<byte> prefix)
    {
        if (prefix.Length < TapeIndexFormat.Magic.Length) CorruptStructure.Truncated("tape index", 0, TapeIndexFormat.Magic.Length, prefix.Length);
        CorruptStructure.Check(prefix.StartsWith(TapeIndexFormat.Magic), "tape index", 0, "not an Offhost index (magic OFFHIDX missing)");
        int at = TapeIndexFormat.Magic.Length;
        byte type = NextRecord(prefix, ref at, out var payload, out int payloadAt);
        CorruptStructure.Check(type == TapeIndexFormat.HeaderRecord, "tape index header", payloadAt - TapeIndexFormat.RecordHeaderBytes, $"first record has type {type}, expected {TapeIndexFormat.HeaderRecord}");
        return ReadHeader(payload, payloadAt);
    }

    static byte NextRecord(ReadOnlySpan<byte> index, ref int at, out ReadOnlySpan<byte> payload, out int payloadAt)
    {
        const string S = "tape index record";
        int left = index.Length - at;
        if (left < TapeIndexFormat.RecordHeaderBytes) CorruptStructure.Truncated(S, at, TapeIndexFormat.RecordHeaderBytes, left);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(index[at..]);
        if (length < TapeIndexFormat.RecordHeaderBytes || length > TapeIndexFormat.MaxRecordBytes)
            CorruptStructure.Throw(S, at, $"length {length} outside {TapeIndexFormat.RecordHeaderBytes}..{TapeIndexFormat.MaxRecordBytes}");
        if (length > left) CorruptStructure.Truncated(S, at, length, left);
        byte type = index[at + 4];
        payload = index.Slice(at + TapeIndexFormat.RecordHeaderBytes, (int)length - TapeIndexFormat.RecordHeaderBytes);
        payloadAt = at + TapeIndexFormat.RecordHeaderBytes;
        at += (int)length;
        return type;
    }

    internal static TapeIndexHeader ReadHeader(ReadOnlySpan<byte> p, int baseAt)
    {
        var r = new Reader(p, baseAt, "tape index header");
        ushort version = r.U16();
        CorruptStructure.Check(version == TapeIndexFormat.Version, "tape index header", baseAt, $"unsupported index version {version} (this program reads version {TapeIndexFormat.Version})");
        r.U16(); // flags: none defined yet
        var id = new Guid(r.Bytes(16), bigEndian: true);
        long seconds = r.I64();
        int nanos = r.Nanos();
        long archiveFile = r.I64();
        CorruptStructure.Check(archiveFile >= 0, "tape index header", baseAt + 32, $"archive file number {archiveFile} is negative");
        int sourceBytes = r.U16();
        if (sourceBytes > TapeIndexFormat.MaxSourceDescriptionBytes) r.Fail($"source description of {sourceBytes} bytes exceeds {TapeIndexFormat.MaxSourceDescriptionBytes}");
        string source = r.Utf8(sourceBytes);
        return new TapeIndexHeader(id, source, new MapTime(seconds, nanos), archiveFile);
    }

    internal static TapeIndexEntry ReadEntry(ReadOnlySpan<byte> p, int baseAt)
    {
        var r = new Reader(p, baseAt, "tape index entry");
        byte kind = r.U8();
        if (kind > (byte)PaxEntryKind.Socket) r.Fail($"unknown entry kind {kind}");
        r.U8(); // flags
        uint mode = r.U32(), uid = r.U32(), gid = r.U32();
        long memberOffset = r.NonNegative();
        long size = r.NonNegative();
        bool hasMtime = r.U8() != 0;
        long mtimeS = r.I64();
        int mtimeNs = r.Nanos();
        string path = r.Utf8(r.U16());
        bool hasLink = r.U8() != 0;
        string link = r.Utf8(r.U16());
        int streamCount = r.U16();
        // Each stream needs at least StreamFixedBytes, so the count is bounded by the record before allocating.
        if ((long)streamCount * TapeIndexFormat.StreamFixedBytes > r.Remaining) r.Fail($"{streamCount} streams do not fit in the record");
        var streams = new TapeIndexStream[streamCount];
        for (int i = 0; i < streamCount; i++)
        {
            string name = r.Utf8(r.U16());
            byte storage = r.U8();
            if (storage > (byte)TapeStreamStorage.ExtendedHeader) r.Fail($"unknown stream storage {storage}");
            bool sparse = (r.U8() & 1) != 0;
            streams[i] = new TapeIndexStream(name, r.NonNegative(), r.NonNegative(), r.NonNegative(), r.U64())
            {
                Storage = (TapeStreamStorage)storage,
                Sparse = sparse,
            };
        }
        // Device entries end with the device number (added with kinds 4-7; older entries are unchanged).
        DeviceNumber? device = PaxEntryKinds.HasDevice((PaxEntryKind)kind) ? new DeviceNumber(r.U32(), r.U32()) : null;
        return new TapeIndexEntry(path, (PaxEntryKind)kind, memberOffset)
        {
            Device = device,
            SizeBytes = size,
            Mode = mode,
            Uid = uid,
            Gid = gid,
            Modified = hasMtime ? new MapTime(mtimeS, mtimeNs) : null,
            LinkTarget = hasLink ? link : null,
            Streams = streams,
        };
    }

    /// <summary>Bounds-checked little-endian reader over one record's payload.</summary>
    ref struct Reader(ReadOnlySpan<byte> span, int baseAt, string structure)
    {
        readonly ReadOnlySpan<byte> span = span;
        int at;

        public readonly int Remaining => span.Length - at;

        ReadOnlySpan<byte> Take(int n)
        {
            if (n > span.Length - at) CorruptStructure.Truncated(structure, baseAt + at, n, span.Length - at);
            var s = span.Slice(at, n);
            at += n;
            return s;
        }

        public byte U8() => Take(1)[0];
        public ushort U16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
        public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
        public long I64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));
        public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
        public ReadOnlySpan<byte> Bytes(int n) => Take(n);

        public long NonNegative()
        {
            int here = at;
            long v = I64();
            if (v < 0) CorruptStructure.Throw(structure, baseAt + here, $"negative offset or size {v}");
            return v;
        }

        public int Nanos()
        {
            int here = at;
            int v = BinaryPrimitives.ReadInt32LittleEndian(Take(4));
            if (v is < 0 or >= 1_000_000_000) CorruptStructure.Throw(structure, baseAt + here, $"nanoseconds {v} out of range");
            return v;
        }

        public string Utf8(int n)
        {
            int here = at;
            var bytes = Take(n);
            try { return new UTF8Encoding(false, true).GetString(bytes); }
            catch (DecoderFallbackException) { return CorruptStructure.Throw<string>(structure, baseAt + here, "text is not valid UTF-8"); }
        }

        public readonly void Fail(string reason) => CorruptStructure.Throw(structure, baseAt + at, reason);
    }
}
