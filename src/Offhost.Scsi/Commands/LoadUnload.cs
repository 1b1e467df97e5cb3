namespace Offhost.Scsi.Commands;

/// <summary>LOAD UNLOAD (1Bh, SSC-4 §7.2). Byte 4: bit 0 LOAD, bit 1 RETEN, bit 2 EOT, bit 3 HOLD. tgt reads the same
/// byte as START STOP UNIT (bit 1 = eject: 02h takes the medium offline), so a plain LOAD is 01h and UNLOAD 00h.</summary>
public static class LoadUnload
{
    public const byte Opcode = 0x1B;

    public static byte[] Cdb(bool load, bool hold = false, bool immediate = false)
    {
        var cdb = new byte[6];
        cdb[0] = Opcode;
        cdb[1] = immediate ? (byte)1 : (byte)0;
        cdb[4] = (byte)((hold ? 0x08 : 0) | (load ? 0x01 : 0));
        return cdb;
    }
}
