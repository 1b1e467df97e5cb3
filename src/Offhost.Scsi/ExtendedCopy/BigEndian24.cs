namespace Offhost.Scsi.ExtendedCopy;

/// <summary>The 24-bit big-endian fields SPC uses for transfer lengths and block lengths.</summary>
internal static class BigEndian24
{
    public const int Max = 0xFF_FFFF;

    public static int Read(ReadOnlySpan<byte> src) => (src[0] << 16) | (src[1] << 8) | src[2];

    /// <summary>A 24-bit two's-complement value (SPACE counts).</summary>
    public static int ReadSigned(ReadOnlySpan<byte> src) => (Read(src) << 8) >> 8;

    public static void Write(Span<byte> dst, int value)
    {
        dst[0] = (byte)(value >> 16);
        dst[1] = (byte)(value >> 8);
        dst[2] = (byte)value;
    }

    public static void CheckRange(int value, string name)
    {
        if (value is < 0 or > Max) throw new ArgumentOutOfRangeException(name, value, "must fit in 24 bits");
    }
}
