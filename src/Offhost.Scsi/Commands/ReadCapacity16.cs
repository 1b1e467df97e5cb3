using System.Buffers.Binary;
using Offhost.Core.Errors;

namespace Offhost.Scsi.Commands;

/// <summary>READ CAPACITY(16) (9Eh/10h, SBC-4 §5.20) and its 32-byte parameter data.</summary>
public static class ReadCapacity16
{
    public const byte Opcode = 0x9E;
    public const byte ServiceAction = 0x10;
    public const int DataLength = 32;

    public static byte[] Cdb()
    {
        var cdb = new byte[16];
        cdb[0] = Opcode;
        cdb[1] = ServiceAction;
        BinaryPrimitives.WriteUInt32BigEndian(cdb.AsSpan(10), DataLength);
        return cdb;
    }

    public static Capacity Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < 12) CorruptStructure.Truncated("READ CAPACITY(16) data", 0, 12, data.Length);
        ulong lastLba = BinaryPrimitives.ReadUInt64BigEndian(data);
        uint blockLength = BinaryPrimitives.ReadUInt32BigEndian(data[8..]);
        if (blockLength is < 1 or > 1024 * 1024)
            CorruptStructure.Throw("READ CAPACITY(16) data", 8, $"LOGICAL BLOCK LENGTH {blockLength} is not 1..1048576 bytes");
        if (lastLba >= (ulong)(long.MaxValue / blockLength))
            CorruptStructure.Throw("READ CAPACITY(16) data", 0, $"RETURNED LOGICAL BLOCK ADDRESS {lastLba} gives an impossible capacity");
        int exponent = data.Length > 13 ? data[13] & 0x0F : 0;
        return new Capacity((long)lastLba + 1, (int)blockLength, exponent);
    }
}

/// <summary>Size of a direct-access LU: <see cref="BlockCount"/> blocks of <see cref="BlockLengthBytes"/>; physical block
/// = 2^<see cref="LogicalBlocksPerPhysicalExponent"/> logical blocks.</summary>
public readonly record struct Capacity(long BlockCount, int BlockLengthBytes, int LogicalBlocksPerPhysicalExponent)
{
    public long LengthBytes => BlockCount * BlockLengthBytes;
}
