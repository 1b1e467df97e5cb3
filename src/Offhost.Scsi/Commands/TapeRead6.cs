namespace Offhost.Scsi.Commands;

/// <summary>READ(6) for sequential-access devices (08h, SSC-4 §7.7). Variable mode: TRANSFER LENGTH is the bytes of one
/// record; fixed mode: a count of blocks.</summary>
public static class TapeRead6
{
    public const byte Opcode = 0x08;
    public const int MaxTransferLength = 0xFFFFFF;

    public static byte[] Cdb(int transferLength, bool fixedBlocks = false, bool suppressIncorrectLength = false)
    {
        if (transferLength is < 0 or > MaxTransferLength) throw new ArgumentOutOfRangeException(nameof(transferLength));
        var cdb = new byte[6];
        cdb[0] = Opcode;
        cdb[1] = (byte)((suppressIncorrectLength ? 2 : 0) | (fixedBlocks ? 1 : 0));
        cdb[2] = (byte)(transferLength >> 16);
        cdb[3] = (byte)(transferLength >> 8);
        cdb[4] = (byte)transferLength;
        return cdb;
    }
}
