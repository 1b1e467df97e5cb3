using System.Buffers.Binary;

namespace Offhost.Formats.Ntfs.Tests;

/// <summary>A simple greedy LZNT1 compressor, only to produce round-trip inputs for the decoder under test.</summary>
internal static class Lznt1Compressor
{
    public static byte[] Compress(ReadOnlySpan<byte> input)
    {
        var output = new List<byte>();
        for (int start = 0; start < input.Length; start += 4096)
        {
            var chunk = input.Slice(start, Math.Min(4096, input.Length - start));
            var body = CompressChunk(chunk);
            if (body.Count >= chunk.Length)
            {
                AddHeader(output, chunk.Length, compressed: false);
                output.AddRange(chunk.ToArray());
            }
            else
            {
                AddHeader(output, body.Count, compressed: true);
                output.AddRange(body);
            }
        }
        output.Add(0);
        output.Add(0);
        return [.. output];
    }

    static void AddHeader(List<byte> output, int dataBytes, bool compressed)
    {
        ushort h = (ushort)((dataBytes - 1) | 0x3000 | (compressed ? 0x8000 : 0));
        output.Add((byte)h);
        output.Add((byte)(h >> 8));
    }

    static List<byte> CompressChunk(ReadOnlySpan<byte> chunk)
    {
        var body = new List<byte>();
        int pos = 0;
        while (pos < chunk.Length)
        {
            int flagAt = body.Count;
            body.Add(0);
            byte flags = 0;
            for (int bit = 0; bit < 8 && pos < chunk.Length; bit++)
            {
                int lengthBits = 12;
                for (int i = pos - 1; i >= 0x10; i >>= 1) lengthBits--;
                int maxLength = (1 << lengthBits) + 2, maxOffset = 1 << (16 - lengthBits);
                int bestLength = 0, bestOffset = 0;
                for (int offset = 1; offset <= Math.Min(pos, maxOffset); offset++)
                {
                    int n = 0;
                    while (n < maxLength && pos + n < chunk.Length && chunk[pos + n] == chunk[pos + n - offset]) n++;
                    if (n > bestLength) { bestLength = n; bestOffset = offset; }
                }
                if (bestLength >= 3)
                {
                    flags |= (byte)(1 << bit);
                    ushort token = (ushort)(((bestOffset - 1) << lengthBits) | (bestLength - 3));
                    body.Add((byte)token);
                    body.Add((byte)(token >> 8));
                    pos += bestLength;
                }
                else
                {
                    body.Add(chunk[pos++]);
                }
            }
            body[flagAt] = flags;
        }
        return body;
    }

    /// <summary>Encodes runs as mapping pairs (minimal field sizes), for runlist round trips.</summary>
    public static byte[] EncodeRuns(IEnumerable<(long Length, long? Lcn)> runs)
    {
        var output = new List<byte>();
        long previous = 0;
        foreach (var (length, lcn) in runs)
        {
            var len = Minimal(length);
            byte[] off = lcn is long l ? Minimal(l - previous) : [];
            if (lcn is long l2) previous = l2;
            output.Add((byte)(len.Length | (off.Length << 4)));
            output.AddRange(len);
            output.AddRange(off);
        }
        output.Add(0);
        return [.. output];
    }

    static byte[] Minimal(long v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, v);
        int n = 8;
        while (n > 1 && ((b[n - 1] == 0 && (b[n - 2] & 0x80) == 0) || (b[n - 1] == 0xFF && (b[n - 2] & 0x80) != 0))) n--;
        return b[..n].ToArray();
    }
}
