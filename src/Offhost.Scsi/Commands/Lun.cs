namespace Offhost.Scsi.Commands;

/// <summary>SAM-5 8-byte LUN encoding for the single-level addressing iSCSI targets use.</summary>
public static class Lun
{
    /// <summary>Encodes LUN <paramref name="number"/>: peripheral addressing below 256, flat addressing up to 16383.</summary>
    public static ulong Encode(int number)
    {
        if (number is < 0 or > 0x3FFF) throw new ArgumentOutOfRangeException(nameof(number), "LUN must be 0..16383");
        return number < 256 ? (ulong)number << 48 : (ulong)(0x4000 | number) << 48;
    }

    /// <summary>The LUN number of a single-level peripheral or flat LUN; -1 for other addressing methods.</summary>
    public static int Decode(ulong lun)
    {
        if ((lun & 0x0000FFFFFFFFFFFFUL) != 0) return -1;
        int first = (int)(lun >> 48);
        return (first >> 14) switch
        {
            0 when (first >> 8) == 0 => first & 0xFF,
            1 => first & 0x3FFF,
            _ => -1,
        };
    }
}
