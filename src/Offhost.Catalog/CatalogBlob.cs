using System.Buffers;
using System.Text;
using Offhost.Core.Errors;

namespace Offhost.Catalog;

/// <summary>
/// The compact binary columns of the catalog: string lists (hard links, attributes), extended attributes and
/// source-extent lists. Layout: one version byte (1), then LEB128 varints; extents are delta-coded (LBA relative
/// to the end of the previous run, zigzag) so a contiguous file costs a few bytes per run. Pure codec: no I/O.
/// Decoding bounds every count and length by the bytes that remain, so hostile input cannot allocate much.
/// Errors are <see cref="CorruptStructureException"/> with the byte offset inside the blob.
/// </summary>
public static class CatalogBlob
{
    const byte Version = 1;
    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static byte[] EncodeStrings(IReadOnlyList<string> values)
    {
        var w = new ArrayBufferWriter<byte>();
        w.Write([Version]);
        WriteVarint(w, (ulong)values.Count);
        foreach (var s in values) WriteString(w, s);
        return w.WrittenSpan.ToArray();
    }

    public static IReadOnlyList<string> DecodeStrings(ReadOnlySpan<byte> blob, string structure = "catalog string list")
    {
        var r = new Reader(blob, structure);
        int count = r.Count(minBytesEach: 1);
        var list = new List<string>(count);
        for (int i = 0; i < count; i++) list.Add(r.String());
        r.End();
        return list;
    }

    public static byte[] EncodeXattrs(IReadOnlyDictionary<string, byte[]> xattrs)
    {
        var w = new ArrayBufferWriter<byte>();
        w.Write([Version]);
        WriteVarint(w, (ulong)xattrs.Count);
        foreach (var (name, value) in xattrs.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            WriteString(w, name);
            WriteVarint(w, (ulong)value.Length);
            w.Write(value);
        }
        return w.WrittenSpan.ToArray();
    }

    public static IReadOnlyDictionary<string, byte[]> DecodeXattrs(ReadOnlySpan<byte> blob, string structure = "catalog xattr list")
    {
        var r = new Reader(blob, structure);
        int count = r.Count(minBytesEach: 2);
        var map = new Dictionary<string, byte[]>(count, StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            long at = r.Offset;
            string name = r.String();
            byte[] value = r.Bytes();
            if (!map.TryAdd(name, value)) CorruptStructure.Throw(structure, at, $"duplicate attribute name '{name}'");
        }
        r.End();
        return map;
    }

    public static byte[] EncodeExtents(IReadOnlyList<SourceExtent> extents)
    {
        var w = new ArrayBufferWriter<byte>();
        w.Write([Version]);
        WriteVarint(w, (ulong)extents.Count);
        long prevEndLba = 0, prevOffset = 0;
        foreach (var e in extents)
        {
            if (e.DeviceIndex < 0 || e.Lba < 0 || e.Blocks < 0 || e.StreamOffsetBytes < 0)
                throw new ArgumentOutOfRangeException(nameof(extents), $"negative field in {e}");
            WriteVarint(w, (ulong)e.DeviceIndex);
            WriteVarint(w, ZigZag(unchecked(e.Lba - prevEndLba)));
            WriteVarint(w, (ulong)e.Blocks);
            WriteVarint(w, ZigZag(unchecked(e.StreamOffsetBytes - prevOffset)));
            prevEndLba = unchecked(e.Lba + e.Blocks);
            prevOffset = e.StreamOffsetBytes;
        }
        return w.WrittenSpan.ToArray();
    }

    public static IReadOnlyList<SourceExtent> DecodeExtents(ReadOnlySpan<byte> blob, string structure = "catalog extent list")
    {
        var r = new Reader(blob, structure);
        int count = r.Count(minBytesEach: 4);
        var list = new List<SourceExtent>(count);
        long prevEndLba = 0, prevOffset = 0;
        for (int i = 0; i < count; i++)
        {
            long at = r.Offset;
            ulong device = r.Varint();
            long lba = unchecked(prevEndLba + UnZigZag(r.Varint()));
            ulong blocks = r.Varint();
            long offset = unchecked(prevOffset + UnZigZag(r.Varint()));
            if (device > int.MaxValue || blocks > long.MaxValue || lba < 0 || offset < 0 || (long)blocks > long.MaxValue - lba)
                CorruptStructure.Throw(structure, at, $"extent {i} out of range (device {device}, lba {lba}, blocks {blocks}, offset {offset})");
            list.Add(new SourceExtent((int)device, lba, (long)blocks, offset));
            prevEndLba = lba + (long)blocks;
            prevOffset = offset;
        }
        r.End();
        return list;
    }

    static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));
    static long UnZigZag(ulong v) => (long)(v >> 1) ^ -(long)(v & 1);

    static void WriteString(ArrayBufferWriter<byte> w, string s)
    {
        int len = Encoding.UTF8.GetByteCount(s);
        WriteVarint(w, (ulong)len);
        Encoding.UTF8.GetBytes(s, w.GetSpan(len));
        w.Advance(len);
    }

    static void WriteVarint(ArrayBufferWriter<byte> w, ulong v)
    {
        Span<byte> buf = w.GetSpan(10);
        int n = 0;
        while (v >= 0x80) { buf[n++] = (byte)(v | 0x80); v >>= 7; }
        buf[n++] = (byte)v;
        w.Advance(n);
    }

    ref struct Reader
    {
        readonly ReadOnlySpan<byte> _b;
        readonly string _structure;
        int _pos;

        public Reader(ReadOnlySpan<byte> blob, string structure)
        {
            _b = blob;
            _structure = structure;
            _pos = 0;
            if (blob.Length == 0) CorruptStructure.Truncated(structure, 0, 1, 0);
            if (blob[0] != Version) CorruptStructure.Throw(structure, 0, $"unknown version {blob[0]}");
            _pos = 1;
        }

        public readonly long Offset => _pos;

        public ulong Varint()
        {
            ulong v = 0;
            for (int shift = 0; ; shift += 7)
            {
                if (_pos >= _b.Length) CorruptStructure.Truncated(_structure, _pos, 1, 0);
                byte x = _b[_pos++];
                if (shift == 63 && x > 1) CorruptStructure.Throw(_structure, _pos - 1, "varint exceeds 64 bits");
                v |= (ulong)(x & 0x7F) << shift;
                if ((x & 0x80) == 0) return v;
                if (shift == 63) CorruptStructure.Throw(_structure, _pos - 1, "varint longer than 10 bytes");
            }
        }

        public int Count(int minBytesEach)
        {
            long at = _pos;
            ulong n = Varint();
            ulong remaining = (ulong)(_b.Length - _pos);
            if (n > remaining / (ulong)minBytesEach)
                CorruptStructure.Throw(_structure, at, $"count {n} cannot fit in the {remaining} bytes that follow");
            return (int)n;
        }

        public byte[] Bytes()
        {
            long at = _pos;
            ulong len = Varint();
            if (len > (ulong)(_b.Length - _pos)) CorruptStructure.Truncated(_structure, at, (long)Math.Min(len, long.MaxValue), _b.Length - _pos);
            byte[] v = _b.Slice(_pos, (int)len).ToArray();
            _pos += (int)len;
            return v;
        }

        public string String()
        {
            long at = _pos;
            byte[] bytes = Bytes();
            try { return StrictUtf8.GetString(bytes); }
            catch (DecoderFallbackException) { return CorruptStructure.Throw<string>(_structure, at, "string is not valid UTF-8"); }
        }

        public readonly void End()
        {
            if (_pos != _b.Length) CorruptStructure.Throw(_structure, _pos, $"{_b.Length - _pos} trailing bytes");
        }
    }
}
