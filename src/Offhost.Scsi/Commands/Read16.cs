using System.Buffers.Binary;

namespace Offhost.Scsi.Commands;

/// <summary>READ(16) (88h, SBC-4 §5.15).</summary>
public static class Read16
{
    public const byte Opcode = 0x88;

    public static byte[] Cdb(long lba, int blocks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lba);
        ArgumentOutOfRangeException.ThrowIfNegative(blocks);
        var cdb = new byte[16];
        cdb[0] = Opcode;
        BinaryPrimitives.WriteInt64BigEndian(cdb.AsSpan(2), lba);
        BinaryPrimitives.WriteInt32BigEndian(cdb.AsSpan(10), blocks);
        return cdb;
    }
}
