using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Offhost.Formats.Tape.Pax;

namespace Offhost.Formats.Tape.Index;

/// <summary>
/// Encodes an index incrementally into a caller's buffer writer, so the index of millions of files never needs
/// to be held as objects: <see cref="Add"/> per entry, then <see cref="Complete"/>. No I/O; not thread-safe.
/// </summary>
public sealed class TapeIndexWriter
{
    readonly IBufferWriter<byte> output;
    readonly XxHash64 hash = new();
    long entries;
    bool completed;

    public TapeIndexWriter(IBufferWriter<byte> output, TapeIndexHeader header)
    {
        this.output = output;
        byte[] source = Encoding.UTF8.GetBytes(header.SourceDescription);
        if (source.Length > TapeIndexFormat.MaxSourceDescriptionBytes)
            throw new ArgumentException($"source description is {source.Length} bytes, at most {TapeIndexFormat.MaxSourceDescriptionBytes}", nameof(header));
        if (header.Created.Nanoseconds is < 0 or >= 1_000_000_000) throw new ArgumentException("nanoseconds out of range", nameof(header));
        Write(TapeIndexFormat.Magic);
        var r = new RecordBuilder(TapeIndexFormat.HeaderRecord);
        r.U16(TapeIndexFormat.Version).U16(0);
        Span<byte> id = stackalloc byte[16];
        header.BackupId.TryWriteBytes(id, bigEndian: true, out _);
        r.Bytes(id).I64(header.Created.UnixSeconds).I32(header.Created.Nanoseconds).I64(header.ArchiveFileNumber);
        r.U16((ushort)source.Length).Bytes(source);
        Write(r.Finish());
    }

    /// <summary>Entries written so far.</summary>
    public long EntryCount => entries;

    public void Add(TapeIndexEntry entry)
    {
        ObjectDisposedException.ThrowIf(completed, this);
        byte[] path = Utf8(entry.Path, "path");
        byte[]? link = entry.LinkTarget is null ? null : Utf8(entry.LinkTarget, "link target");
        if (entry.Streams.Count > TapeIndexFormat.MaxStreamsPerEntry) throw new ArgumentException("too many streams", nameof(entry));
        if (entry.MemberOffsetBytes < 0 || entry.SizeBytes < 0) throw new ArgumentException("negative offset or size", nameof(entry));
        var r = new RecordBuilder(TapeIndexFormat.EntryRecord);
        r.U8((byte)entry.Kind).U8(0).U32(entry.Mode).U32(entry.Uid).U32(entry.Gid).I64(entry.MemberOffsetBytes).I64(entry.SizeBytes);
        r.U8(entry.Modified is null ? (byte)0 : (byte)1).I64(entry.Modified?.UnixSeconds ?? 0).I32(entry.Modified?.Nanoseconds ?? 0);
        r.U16((ushort)path.Length).Bytes(path);
        r.U8(link is null ? (byte)0 : (byte)1).U16((ushort)(link?.Length ?? 0)).Bytes(link ?? []);
        r.U16((ushort)entry.Streams.Count);
        foreach (var s in entry.Streams)
        {
            byte[] name = Utf8(s.Name, "stream name");
            if (s.SizeBytes < 0 || s.MemberOffsetBytes < 0 || s.DataOffsetBytes < 0) throw new ArgumentException("negative stream offset or size", nameof(entry));
            r.U16((ushort)name.Length).Bytes(name).U8((byte)s.Storage).U8(s.Sparse ? (byte)1 : (byte)0)
                .I64(s.SizeBytes).I64(s.MemberOffsetBytes).I64(s.DataOffsetBytes).U64(s.XxHash64);
        }
        if (PaxEntryKinds.HasDevice(entry.Kind))
        {
            var dev = entry.Device ?? throw new ArgumentException($"{entry.Kind} entry '{entry.Path}' has no device number", nameof(entry));
            r.U32(dev.Major).U32(dev.Minor);
        }
        byte[] record = r.Finish();
        if (record.Length > TapeIndexFormat.MaxRecordBytes) throw new ArgumentException($"index record for '{entry.Path}' exceeds {TapeIndexFormat.MaxRecordBytes} bytes", nameof(entry));
        Write(record);
        entries++;
    }

    /// <summary>Writes the end record (entry count and xxHash64 of everything before it). Call once.</summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(completed, this);
        completed = true;
        var span = output.GetSpan(TapeIndexFormat.EndRecordBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(span, TapeIndexFormat.EndRecordBytes);
        span[4] = TapeIndexFormat.EndRecord;
        BinaryPrimitives.WriteInt64LittleEndian(span[5..], entries);
        BinaryPrimitives.WriteUInt64LittleEndian(span[13..], hash.GetCurrentHashAsUInt64());
        output.Advance(TapeIndexFormat.EndRecordBytes);
    }

    void Write(ReadOnlySpan<byte> bytes)
    {
        hash.Append(bytes);
        output.Write(bytes);
    }

    static byte[] Utf8(string s, string what)
    {
        byte[] b = Encoding.UTF8.GetBytes(s);
        if (b.Length > TapeIndexFormat.MaxPathBytes) throw new ArgumentException($"{what} is {b.Length} bytes, at most {TapeIndexFormat.MaxPathBytes}");
        return b;
    }

    /// <summary>Little-endian record builder: u32 length, u8 type, payload.</summary>
    sealed class RecordBuilder
    {
        readonly ArrayBufferWriter<byte> w = new(256);

        public RecordBuilder(byte type) { U32(0); U8(type); }

        public RecordBuilder U8(byte v) { w.GetSpan(1)[0] = v; w.Advance(1); return this; }
        public RecordBuilder U16(ushort v) { BinaryPrimitives.WriteUInt16LittleEndian(w.GetSpan(2), v); w.Advance(2); return this; }
        public RecordBuilder U32(uint v) { BinaryPrimitives.WriteUInt32LittleEndian(w.GetSpan(4), v); w.Advance(4); return this; }
        public RecordBuilder I32(int v) { BinaryPrimitives.WriteInt32LittleEndian(w.GetSpan(4), v); w.Advance(4); return this; }
        public RecordBuilder I64(long v) { BinaryPrimitives.WriteInt64LittleEndian(w.GetSpan(8), v); w.Advance(8); return this; }
        public RecordBuilder U64(ulong v) { BinaryPrimitives.WriteUInt64LittleEndian(w.GetSpan(8), v); w.Advance(8); return this; }
        public RecordBuilder Bytes(ReadOnlySpan<byte> v) { w.Write(v); return this; }

        public byte[] Finish()
        {
            byte[] b = w.WrittenSpan.ToArray();
            BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)b.Length);
            return b;
        }
    }
}
