using System.Buffers.Binary;

namespace Offhost.Scsi.Commands;

/// <summary>SYNCHRONIZE CACHE(10) (35h, SBC-4 §5.26); LBA 0 with 0 blocks means the whole medium.</summary>
public static class SynchronizeCache
{
    public const byte Opcode = 0x35;

    public static byte[] Cdb(uint lba = 0, ushort blocks = 0)
    {
        var cdb = new byte[10];
        cdb[0] = Opcode;
        BinaryPrimitives.WriteUInt32BigEndian(cdb.AsSpan(2), lba);
        BinaryPrimitives.WriteUInt16BigEndian(cdb.AsSpan(7), blocks);
        return cdb;
    }
}
