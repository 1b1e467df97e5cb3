using System.Text;

namespace Offhost.Formats.Tape.Pax;

/// <summary>Writes one 512-byte POSIX ustar header block (IEEE 1003.1 "ustar Interchange Format").</summary>
internal static class UstarHeader
{
    public const int NameBytes = 100;
    public const int PrefixBytes = 155;
    public const long MaxOctal7 = 0x1F_FFFF;          // 7 octal digits: 07777777
    public const long MaxOctal11 = 0x1_FFFF_FFFF;     // 11 octal digits: 077777777777 (8 GiB - 1)

    /// <param name="name">ASCII name (≤ 100 bytes) and <paramref name="prefix"/> (≤ 155 bytes), already split.</param>
    public static void Write(Span<byte> block, ReadOnlySpan<byte> name, ReadOnlySpan<byte> prefix, uint mode, long uid, long gid,
        long sizeBytes, long mtimeSeconds, byte typeflag, ReadOnlySpan<byte> linkName, string? uname, string? gname,
        long devMajor = 0, long devMinor = 0)
    {
        block[..PaxLayout.BlockBytes].Clear();
        name.CopyTo(block);
        Octal(block.Slice(100, 8), mode & 0xFFF);
        Octal(block.Slice(108, 8), uid is >= 0 and <= MaxOctal7 ? uid : 0);
        Octal(block.Slice(116, 8), gid is >= 0 and <= MaxOctal7 ? gid : 0);
        Octal(block.Slice(124, 12), sizeBytes is >= 0 and <= MaxOctal11 ? sizeBytes : 0);
        Octal(block.Slice(136, 12), mtimeSeconds is >= 0 and <= MaxOctal11 ? mtimeSeconds : 0);
        block[156] = typeflag;
        linkName.CopyTo(block.Slice(157, 100));
        "ustar\0"u8.CopyTo(block[257..]);
        "00"u8.CopyTo(block[263..]);
        AsciiField(block.Slice(265, 32), uname);
        AsciiField(block.Slice(297, 32), gname);
        Octal(block.Slice(329, 8), devMajor is >= 0 and <= MaxOctal7 ? devMajor : 0);
        Octal(block.Slice(337, 8), devMinor is >= 0 and <= MaxOctal7 ? devMinor : 0);
        prefix.CopyTo(block.Slice(345, PrefixBytes));
        block.Slice(148, 8).Fill((byte)' ');
        int sum = 0;
        foreach (byte b in block[..PaxLayout.BlockBytes]) sum += b;
        // Six octal digits, NUL, space: the form every tar reader accepts.
        Octal(block.Slice(148, 7), sum);
        block[155] = (byte)' ';
    }

    /// <summary>True if <paramref name="value"/> fits a ustar text field as-is (printable ASCII, short enough).</summary>
    public static bool FitsAscii(string value, int maxBytes) =>
        value.Length <= maxBytes && value.All(c => c is >= ' ' and <= '~');

    /// <summary>A printable-ASCII stand-in for a name that needs a pax record; readers use the record.</summary>
    public static byte[] Fallback(string value, int maxBytes)
    {
        var chars = value.Select(c => c is >= ' ' and <= '~' ? c : '_').ToArray();
        var s = new string(chars);
        if (s.Length > maxBytes) s = s[^maxBytes..];
        return Encoding.ASCII.GetBytes(s);
    }

    static void Octal(Span<byte> field, long value)
    {
        int digits = field.Length - 1;
        field[digits] = 0;
        for (int i = digits - 1; i >= 0; i--)
        {
            field[i] = (byte)('0' + (value & 7));
            value >>= 3;
        }
    }

    static void AsciiField(Span<byte> field, string? value)
    {
        if (value is null || !FitsAscii(value, field.Length - 1)) return;
        Encoding.ASCII.GetBytes(value, field);
    }
}
