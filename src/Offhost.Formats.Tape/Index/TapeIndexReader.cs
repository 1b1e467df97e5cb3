using System.Buffers.Binary;
using System.IO.Hashing;
using Offhost.Core.Errors;

namespace Offhost.Formats.Tape.Index;

/// <summary>
/// Streaming decoder for indexes too large to hold at once: feed it the index tape file's bytes in order, one
/// record at a time. The caller keeps a buffer of at least <see cref="TapeIndexFormat.MaxRecordBytes"/> + 8 bytes,
/// calls <see cref="TryRead"/> with the unconsumed bytes, drops <c>consumed</c> bytes and refills when it returns
/// false. Checks are those of <see cref="TapeIndexDecoder.Decode"/>, including the end record's count and xxHash64.
/// Pure; not thread-safe.
/// </summary>
public sealed class TapeIndexReader
{
    readonly XxHash64 hash = new();
    long offset;      // bytes consumed so far: offsets in errors are within the index tape file
    long entries;

    /// <summary>The header, once read.</summary>
    public TapeIndexHeader? Header { get; private set; }

    /// <summary>The end record was read and verified.</summary>
    public bool Completed { get; private set; }

    /// <summary>
    /// Reads the next item from <paramref name="buffered"/>. Returns true and sets <paramref name="entry"/> for an
    /// entry, or true with a null entry for the header, an unknown record or the end record (see <see cref="Completed"/>).
    /// Returns false when more bytes are needed (<paramref name="consumed"/> is then 0).
    /// </summary>
    public bool TryRead(ReadOnlySpan<byte> buffered, out int consumed, out TapeIndexEntry? entry)
    {
        consumed = 0;
        entry = null;
        if (Completed) CorruptStructure.Throw("tape index", offset, "bytes after the end record");
        if (Header is null && offset == 0)
        {
            if (buffered.Length < TapeIndexFormat.Magic.Length) return false;
            CorruptStructure.Check(buffered.StartsWith(TapeIndexFormat.Magic), "tape index", 0, "not an Offhost index (magic OFFHIDX missing)");
            hash.Append(buffered[..TapeIndexFormat.Magic.Length]);
            offset = TapeIndexFormat.Magic.Length;
            consumed = TapeIndexFormat.Magic.Length;
            return true;
        }
        if (buffered.Length < TapeIndexFormat.RecordHeaderBytes) return false;
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(buffered);
        if (length < TapeIndexFormat.RecordHeaderBytes || length > TapeIndexFormat.MaxRecordBytes)
            CorruptStructure.Throw("tape index record", offset, $"length {length} outside {TapeIndexFormat.RecordHeaderBytes}..{TapeIndexFormat.MaxRecordBytes}");
        if (buffered.Length < length) return false;
        var record = buffered[..(int)length];
        byte type = record[4];
        var payload = record[TapeIndexFormat.RecordHeaderBytes..];
        // Offsets inside the payload readers are relative to the index start only up to 2 GiB; beyond, they clamp.
        int payloadAt = (int)Math.Min(int.MaxValue, offset + TapeIndexFormat.RecordHeaderBytes);
        if (Header is null)
        {
            CorruptStructure.Check(type == TapeIndexFormat.HeaderRecord, "tape index header", offset, $"first record has type {type}, expected {TapeIndexFormat.HeaderRecord}");
            Header = TapeIndexDecoder.ReadHeader(payload, payloadAt);
        }
        else if (type == TapeIndexFormat.EntryRecord)
        {
            entry = TapeIndexDecoder.ReadEntry(payload, payloadAt);
            entries++;
        }
        else if (type == TapeIndexFormat.EndRecord)
        {
            CorruptStructure.Check(payload.Length == 16, "tape index end record", offset, $"payload is {payload.Length} bytes, expected 16");
            long count = BinaryPrimitives.ReadInt64LittleEndian(payload);
            ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]);
            ulong actual = hash.GetCurrentHashAsUInt64();
            CorruptStructure.Check(stored == actual, "tape index end record", offset + 13, $"xxHash64 {stored:X16} does not match the index bytes {actual:X16}");
            CorruptStructure.Check(count == entries, "tape index end record", offset + 5, $"says {count} entries, found {entries}");
            Completed = true;
        }
        hash.Append(record);
        offset += length;
        consumed = (int)length;
        return true;
    }

    /// <summary>Call at end of input: throws unless the end record was read.</summary>
    public void CheckComplete()
    {
        if (!Completed) CorruptStructure.Throw("tape index", offset, "ends without its end record (truncated)");
    }
}
