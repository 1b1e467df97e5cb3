namespace Offhost.Scsi.Commands;

/// <summary>MODE SELECT(6) (15h, SPC-4 §6.11) with a header and one block descriptor (no pages): sets density and
/// block length (0 = variable) of a tape drive.</summary>
public static class ModeSelect6
{
    public const byte Opcode = 0x15;
    public const int BlockDescriptorListLength = 4 + 8;

    public static byte[] Cdb(byte parameterListLengthBytes, bool pageFormat = true)
    {
        var cdb = new byte[6];
        cdb[0] = Opcode;
        cdb[1] = pageFormat ? (byte)0x10 : (byte)0;
        cdb[4] = parameterListLengthBytes;
        return cdb;
    }

    /// <summary>The 12-byte parameter list: header with BUFFERED MODE 1, then a block descriptor.</summary>
    public static byte[] BlockDescriptorList(byte densityCode, int blockLengthBytes, int bufferedMode = 1)
    {
        if (blockLengthBytes is < 0 or > 0xFFFFFF) throw new ArgumentOutOfRangeException(nameof(blockLengthBytes));
        var p = new byte[BlockDescriptorListLength];
        p[2] = (byte)((bufferedMode & 7) << 4);
        p[3] = 8;
        p[4] = densityCode;
        p[9] = (byte)(blockLengthBytes >> 16);
        p[10] = (byte)(blockLengthBytes >> 8);
        p[11] = (byte)blockLengthBytes;
        return p;
    }
}
