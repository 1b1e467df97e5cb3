using System.Buffers.Binary;

namespace Offhost.Scsi.Commands;

/// <summary>WRITE(16) (8Ah, SBC-4 §5.40).</summary>
public static class Write16
{
    public const byte Opcode = 0x8A;

    /// <param name="forceUnitAccess">FUA: the data is on the medium when the command completes.</param>
    public static byte[] Cdb(long lba, int blocks, bool forceUnitAccess = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lba);
        ArgumentOutOfRangeException.ThrowIfNegative(blocks);
        var cdb = new byte[16];
        cdb[0] = Opcode;
        cdb[1] = forceUnitAccess ? (byte)0x08 : (byte)0;
        BinaryPrimitives.WriteInt64BigEndian(cdb.AsSpan(2), lba);
        BinaryPrimitives.WriteInt32BigEndian(cdb.AsSpan(10), blocks);
        return cdb;
    }
}
