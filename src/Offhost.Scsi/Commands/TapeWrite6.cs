namespace Offhost.Scsi.Commands;

/// <summary>WRITE(6) for sequential-access devices (0Ah, SSC-4 §7.12). Variable mode writes one record of TRANSFER
/// LENGTH bytes (tgt takes the size from the iSCSI Expected Data Transfer Length, so both must agree).</summary>
public static class TapeWrite6
{
    public const byte Opcode = 0x0A;

    public static byte[] Cdb(int transferLength, bool fixedBlocks = false)
    {
        if (transferLength is < 0 or > TapeRead6.MaxTransferLength) throw new ArgumentOutOfRangeException(nameof(transferLength));
        var cdb = new byte[6];
        cdb[0] = Opcode;
        cdb[1] = fixedBlocks ? (byte)1 : (byte)0;
        cdb[2] = (byte)(transferLength >> 16);
        cdb[3] = (byte)(transferLength >> 8);
        cdb[4] = (byte)transferLength;
        return cdb;
    }
}
