using Offhost.Core.Errors;

namespace Offhost.Scsi.Commands;

/// <summary>READ BLOCK LIMITS (05h, SSC-4 §7.6): record sizes a tape drive accepts, in bytes.</summary>
public static class ReadBlockLimits
{
    public const byte Opcode = 0x05;
    public const int DataLength = 6;

    public static byte[] Cdb()
    {
        var cdb = new byte[6];
        cdb[0] = Opcode;
        return cdb;
    }

    public static BlockLimits Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < DataLength) CorruptStructure.Truncated("READ BLOCK LIMITS data", 0, DataLength, data.Length);
        int max = (data[1] << 16) | (data[2] << 8) | data[3];
        int min = (data[4] << 8) | data[5];
        return new BlockLimits(data[0] & 0x1F, max, min);
    }
}

/// <summary>Block limits: granularity exponent, maximum and minimum block length in bytes (0 maximum = no limit reported).</summary>
public readonly record struct BlockLimits(int GranularityExponent, int MaxBlockLengthBytes, int MinBlockLengthBytes);
