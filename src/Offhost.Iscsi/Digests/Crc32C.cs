using System.Buffers.Binary;
using System.Numerics;

namespace Offhost.Iscsi.Digests;

/// <summary>
/// CRC32C (Castagnoli, reflected polynomial 82F63B78h, initial value and final XOR FFFFFFFFh), the iSCSI
/// header and data digest (RFC 7143 §13.1). On the wire the 32-bit value is sent least significant byte first.
/// Uses the hardware CRC32C instruction through <see cref="BitOperations.Crc32C(uint, ulong)"/> when present.
/// Stateless and thread-safe.
/// </summary>
public static class Crc32C
{
    public const int DigestLength = 4;

    /// <summary>CRC32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(0xFFFFFFFFu, data);

    /// <summary>CRC32C over the concatenation of two spans (data segment and its pad).</summary>
    public static uint Compute(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second) => ~Append(Append(0xFFFFFFFFu, first), second);

    /// <summary>Feeds <paramref name="data"/> into a raw (not inverted) CRC state.</summary>
    public static uint Append(uint state, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (byte b in data) state = BitOperations.Crc32C(state, b);
        return state;
    }

    /// <summary>Writes a digest in wire order (little-endian).</summary>
    public static void Write(Span<byte> destination, uint digest) => BinaryPrimitives.WriteUInt32LittleEndian(destination, digest);

    /// <summary>Reads a digest in wire order (little-endian).</summary>
    public static uint Read(ReadOnlySpan<byte> source) => BinaryPrimitives.ReadUInt32LittleEndian(source);
}
