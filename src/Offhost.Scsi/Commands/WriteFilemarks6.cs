namespace Offhost.Scsi.Commands;

/// <summary>WRITE FILEMARKS(6) (10h, SSC-4 §7.15); a count of 0 flushes buffered records to the medium.</summary>
public static class WriteFilemarks6
{
    public const byte Opcode = 0x10;

    public static byte[] Cdb(int count, bool immediate = false)
    {
        if (count is < 0 or > 0xFFFFFF) throw new ArgumentOutOfRangeException(nameof(count));
        var cdb = new byte[6];
        cdb[0] = Opcode;
        cdb[1] = immediate ? (byte)1 : (byte)0;
        cdb[2] = (byte)(count >> 16);
        cdb[3] = (byte)(count >> 8);
        cdb[4] = (byte)count;
        return cdb;
    }
}
