using System.Buffers.Binary;
using Offhost.Core.Errors;

namespace Offhost.Formats.Ntfs;

/// <summary>
/// LZNT1 decompression, the format of NTFS compressed attributes ([MS-XCA] section 2.5). Input is a sequence of chunks,
/// each with a 16-bit header (bit 15: compressed; low 12 bits: data bytes - 1) and decompressing to at most 4096 bytes.
/// Pure and thread-safe.
/// </summary>
public static class Lznt1
{
    /// <summary>Uncompressed bytes produced by one chunk.</summary>
    public const int ChunkBytes = 4096;

    const string S = "LZNT1 chunk";

    /// <summary>
    /// Decompresses <paramref name="compressed"/> into <paramref name="output"/> and returns the bytes produced. Stops at
    /// a zero chunk header, at the end of the input, or when <paramref name="output"/> is full. A chunk that produces
    /// fewer than 4096 bytes and is followed by another chunk is padded with zeros, as NTFS does. Bytes of
    /// <paramref name="output"/> past the returned count are not written; a caller filling a compression unit zeroes them.
    /// Bad input throws <see cref="CorruptStructureException"/> whose offset is relative to the start of <paramref name="compressed"/>.
    /// </summary>
    public static int Decompress(ReadOnlySpan<byte> compressed, Span<byte> output)
    {
        int inPos = 0, outPos = 0;
        int padTo = 0;
        while (inPos + 2 <= compressed.Length && outPos < output.Length)
        {
            ushort header = BinaryPrimitives.ReadUInt16LittleEndian(compressed[inPos..]);
            if (header == 0) break;
            if (padTo > outPos)
            {
                int end = Math.Min(padTo, output.Length);
                output[outPos..end].Clear();
                outPos = end;
                if (outPos >= output.Length) break;
            }
            int headerPos = inPos;
            int dataBytes = (header & 0x0FFF) + 1;
            inPos += 2;
            if (dataBytes > compressed.Length - inPos)
                CorruptStructure.Throw(S, headerPos, $"chunk of {dataBytes} bytes runs past the end of the input ({compressed.Length - inPos} bytes left)");
            var chunk = compressed.Slice(inPos, dataBytes);
            inPos += dataBytes;
            int chunkOutStart = outPos;
            int chunkOutEnd = Math.Min(output.Length, outPos + ChunkBytes);
            padTo = outPos + ChunkBytes;

            if ((header & 0x8000) == 0)
            {
                int n = Math.Min(chunk.Length, chunkOutEnd - outPos);
                chunk[..n].CopyTo(output[outPos..]);
                outPos += n;
                continue;
            }

            int p = 0;
            while (p < chunk.Length && outPos < chunkOutEnd)
            {
                byte flags = chunk[p++];
                for (int bit = 0; bit < 8 && p < chunk.Length && outPos < chunkOutEnd; bit++)
                {
                    if ((flags & (1 << bit)) == 0)
                    {
                        output[outPos++] = chunk[p++];
                        continue;
                    }
                    if (p + 2 > chunk.Length)
                        CorruptStructure.Throw(S, headerPos, $"back-reference at input offset {inPos - dataBytes + p} is cut off by the chunk end");
                    ushort token = BinaryPrimitives.ReadUInt16LittleEndian(chunk[p..]);
                    int tokenPos = inPos - dataBytes + p;
                    p += 2;
                    int produced = outPos - chunkOutStart;
                    if (produced == 0)
                        CorruptStructure.Throw(S, headerPos, $"back-reference at input offset {tokenPos} before any byte of the chunk");
                    // The split between offset and length bits moves as the position in the chunk grows.
                    int lengthBits = 12;
                    for (int i = produced - 1; i >= 0x10; i >>= 1) lengthBits--;
                    int length = (token & ((1 << lengthBits) - 1)) + 3;
                    int offset = (token >> lengthBits) + 1;
                    if (offset > produced)
                        CorruptStructure.Throw(S, headerPos, $"back-reference at input offset {tokenPos} reaches {offset} bytes back, only {produced} produced");
                    int copy = Math.Min(length, chunkOutEnd - outPos);
                    for (int i = 0; i < copy; i++) output[outPos + i] = output[outPos - offset + i];
                    outPos += copy;
                }
            }
        }
        return outPos;
    }
}
