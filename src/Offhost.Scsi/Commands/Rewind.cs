namespace Offhost.Scsi.Commands;

/// <summary>REWIND (01h, SSC-4 §7.10).</summary>
public static class Rewind
{
    public const byte Opcode = 0x01;

    public static byte[] Cdb(bool immediate = false)
    {
        var cdb = new byte[6];
        cdb[0] = Opcode;
        cdb[1] = immediate ? (byte)1 : (byte)0;
        return cdb;
    }
}
