namespace Offhost.Scsi.Commands;

/// <summary>SPACE(6) (11h, SSC-4 §7.11); COUNT is a 24-bit two's complement number, negative = towards BOT.</summary>
public static class Space6
{
    public const byte Opcode = 0x11;
    public const int MaxCount = 0x7FFFFF;

    public enum Code : byte { Blocks = 0, Filemarks = 1, SequentialFilemarks = 2, EndOfData = 3 }

    public static byte[] Cdb(Code code, int count)
    {
        if (count is < -MaxCount - 1 or > MaxCount) throw new ArgumentOutOfRangeException(nameof(count));
        var cdb = new byte[6];
        cdb[0] = Opcode;
        cdb[1] = (byte)((byte)code & 0x0F);
        cdb[2] = (byte)(count >> 16);
        cdb[3] = (byte)(count >> 8);
        cdb[4] = (byte)count;
        return cdb;
    }
}
