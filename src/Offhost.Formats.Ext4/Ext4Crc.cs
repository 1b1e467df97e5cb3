using System.Numerics;

namespace Offhost.Formats.Ext4;

/// <summary>
/// The two checksums of ext4 metadata: CRC32C (Castagnoli) as the kernel's <c>crc32c_le</c> computes it, with no
/// pre- or post-inversion (callers pass the seed), and the CRC16 (ARC polynomial, reflected) of <c>gdt_csum</c>.
/// Thread-safe.
/// </summary>
public static class Ext4Crc
{
    /// <summary>Continues a raw CRC32C over <paramref name="data"/>; ext4 seeds with ~0 or a derived seed.</summary>
    public static uint Crc32C(uint crc, ReadOnlySpan<byte> data)
    {
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
            crc = BitOperations.Crc32C(crc, System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        for (; i < data.Length; i++)
            crc = BitOperations.Crc32C(crc, data[i]);
        return crc;
    }

    /// <summary>CRC32C over a little-endian 32-bit value (inode numbers, generations, group numbers).</summary>
    public static uint Crc32C(uint crc, uint value) => BitOperations.Crc32C(crc, value);

    /// <summary>CRC32C over a little-endian 64-bit value (block numbers).</summary>
    public static uint Crc32C(uint crc, ulong value) => BitOperations.Crc32C(crc, value);

    static readonly ushort[] Crc16Table = BuildCrc16Table();

    static ushort[] BuildCrc16Table()
    {
        var t = new ushort[256];
        for (int i = 0; i < 256; i++)
        {
            int c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ 0xA001 : c >> 1;
            t[i] = (ushort)c;
        }
        return t;
    }

    /// <summary>Continues the kernel's <c>crc16</c> (polynomial 0x8005 reflected, no final inversion).</summary>
    public static ushort Crc16(ushort crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) crc = (ushort)((crc >> 8) ^ Crc16Table[(crc ^ b) & 0xFF]);
        return crc;
    }
}
