using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Offhost.Core.Mapping;

namespace Offhost.Agent.Configuration;

/// <summary>
/// A 128-bit digest of everything the storage map says about one entry: kind, path and links, id and sequence
/// (inode number and generation, MFT record and sequence), size, the four times, mode and owner, attributes,
/// link target, special kind and device number, extended attributes, and every stream with its size, initialized size, flags, resident bytes and
/// each extent's offset, length, kind, LBA, block count and compressed runs. Two maps that would copy different
/// bytes, or restore different metadata, never share a digest (short of a SHA-256 collision). Pure and thread-safe.
/// </summary>
public static class EntryFingerprint
{
    public static UInt128 Compute(MapEntry e)
    {
        ArgumentNullException.ThrowIfNull(e);
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var n = new byte[8];
        void I64(long v) { BinaryPrimitives.WriteInt64LittleEndian(n, v); h.AppendData(n); }
        void Str(string? s)
        {
            if (s is null) { I64(-1); return; }
            var bytes = Encoding.UTF8.GetBytes(s);
            I64(bytes.Length);
            h.AppendData(bytes);
        }
        void Bytes(ReadOnlySpan<byte> b) { I64(b.Length); h.AppendData(b); }
        void Time(MapTime? t)
        {
            if (t is MapTime v) { I64(v.UnixSeconds); I64(v.Nanoseconds); }
            else I64(long.MinValue);
        }

        I64((long)e.Kind);
        Str(e.Path);
        I64(e.Links.Count);
        foreach (var l in e.Links) Str(l);
        I64((long)e.Id);
        I64(e.Sequence);
        I64(e.SizeBytes);
        I64(e.Attributes.Count);
        foreach (var a in e.Attributes) Str(a);
        Time(e.Created);
        Time(e.Modified);
        Time(e.Changed);
        Time(e.Accessed);
        Str(e.Target);
        Str(e.LinkKind);
        I64(e.Mode is uint m ? m : -1);
        I64(e.Uid is uint u ? u : -1);
        I64(e.Gid is uint g ? g : -1);
        I64(e.Xattrs.Count);
        foreach (var (k, v) in e.Xattrs.OrderBy(x => x.Key, StringComparer.Ordinal)) { Str(k); Bytes(v.Span); }
        I64(e.Streams.Count);
        foreach (var s in e.Streams)
        {
            Str(s.Name);
            I64(s.SizeBytes);
            I64(s.InitializedBytes);
            I64((s.Compressed ? 1 : 0) | (s.Encrypted ? 2 : 0) | (s.Sparse ? 4 : 0) | (s.IsResident ? 8 : 0));
            I64(s.CompressionUnitBytes);
            if (s.ResidentData is ReadOnlyMemory<byte> data) Bytes(data.Span);
            I64(s.Extents.Count);
            foreach (var x in s.Extents)
            {
                I64(x.OffsetBytes);
                I64(x.LengthBytes);
                I64((long)x.Kind);
                I64(x.Lba);
                I64(x.Blocks);
                I64(x.Runs.Count);
                foreach (var r in x.Runs) { I64(r.Lba); I64(r.Blocks); }
            }
        }
        Str(e.Error);
        if (e.Kind == MapEntryKind.Special)
        {
            // Only special entries add these, so every other entry keeps the digest it always had.
            I64(e.Special is { } k ? (long)k : -1);
            I64(e.Device is { } d ? ((long)d.Major << 32) | d.Minor : -1);
        }
        Span<byte> digest = stackalloc byte[32];
        h.GetHashAndReset(digest);
        return BinaryPrimitives.ReadUInt128LittleEndian(digest);
    }
}
