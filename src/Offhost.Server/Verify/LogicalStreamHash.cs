using System.IO.Hashing;

namespace Offhost.Server.Verify;

/// <summary>
/// xxHash64 (seed 0) of a stream's logical bytes fed as stored ranges in ascending order: the gaps between ranges
/// (holes of a sparse member) and the tail up to the logical size count as zeros, as the tape index defines its
/// checksums. Not thread-safe.
/// </summary>
public sealed class LogicalStreamHash(long sizeBytes)
{
    static readonly byte[] Zeros = new byte[64 * 1024];
    readonly XxHash64 hash = new();
    long positionBytes;

    /// <summary>Adds <paramref name="bytes"/> found at logical offset <paramref name="offsetBytes"/> (not before the previous range's end).</summary>
    public void Append(long offsetBytes, ReadOnlySpan<byte> bytes)
    {
        if (offsetBytes < positionBytes) throw new InvalidOperationException($"range at {offsetBytes} overlaps bytes already hashed up to {positionBytes}");
        ZerosUpTo(offsetBytes);
        hash.Append(bytes);
        positionBytes += bytes.Length;
    }

    /// <summary>The checksum of the whole stream (trailing hole included).</summary>
    public ulong Complete()
    {
        ZerosUpTo(sizeBytes);
        return hash.GetCurrentHashAsUInt64();
    }

    void ZerosUpTo(long offsetBytes)
    {
        while (positionBytes < offsetBytes)
        {
            int n = (int)Math.Min(Zeros.Length, offsetBytes - positionBytes);
            hash.Append(Zeros.AsSpan(0, n));
            positionBytes += n;
        }
    }
}
