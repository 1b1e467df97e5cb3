using System.Globalization;

namespace Offhost.Core.Mapping;

/// <summary>A file time with nanosecond precision (ext4 keeps nanoseconds; NTFS keeps 100 ns ticks).
/// Printed as ISO-8601 UTC with trailing zeros of the fraction dropped.</summary>
public readonly record struct MapTime(long UnixSeconds, int Nanoseconds)
{
    const long TicksPerSecond = 10_000_000;
    const long FileTimeToUnixEpochTicks = 116_444_736_000_000_000;

    /// <summary>From an NTFS/Windows FILETIME: 100 ns ticks since 1601-01-01 UTC.</summary>
    public static MapTime FromFileTime(long fileTime)
    {
        long ticks = fileTime - FileTimeToUnixEpochTicks;
        long seconds = Math.DivRem(ticks, TicksPerSecond, out long rem);
        if (rem < 0) { seconds--; rem += TicksPerSecond; }
        return new MapTime(seconds, (int)(rem * 100));
    }

    public long ToFileTime() => checked(UnixSeconds * TicksPerSecond + Nanoseconds / 100 + FileTimeToUnixEpochTicks);

    public DateTimeOffset ToDateTimeOffset() => DateTimeOffset.FromUnixTimeSeconds(UnixSeconds).AddTicks(Nanoseconds / 100);

    public static MapTime FromDateTimeOffset(DateTimeOffset t)
    {
        long ticks = t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        long seconds = Math.DivRem(ticks, TicksPerSecond, out long rem);
        if (rem < 0) { seconds--; rem += TicksPerSecond; }
        return new MapTime(seconds, (int)(rem * 100));
    }

    public override string ToString()
    {
        // DateTimeOffset covers years 1..9999; NTFS and ext4 times fit (ext4 reaches 2446).
        var whole = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(UnixSeconds, -62135596800, 253402300799));
        string s = whole.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        if (Nanoseconds == 0) return s + "Z";
        return s + "." + Nanoseconds.ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0') + "Z";
    }

    /// <summary>Longest UTF-8 form: <c>yyyy-MM-ddTHH:mm:ss.fffffffffZ</c>.</summary>
    public const int MaxUtf8Bytes = 30;

    /// <summary>Writes the same text as <see cref="ToString"/> as UTF-8 without allocating; returns the bytes written.</summary>
    public int FormatUtf8(Span<byte> dst)
    {
        var dt = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(UnixSeconds, -62135596800, 253402300799)).UtcDateTime;
        int at = 0;
        void Digits(Span<byte> d, int value, int count)
        {
            for (int i = count - 1; i >= 0; i--) { d[at + i] = (byte)('0' + value % 10); value /= 10; }
            at += count;
        }
        Digits(dst, dt.Year, 4); dst[at++] = (byte)'-';
        Digits(dst, dt.Month, 2); dst[at++] = (byte)'-';
        Digits(dst, dt.Day, 2); dst[at++] = (byte)'T';
        Digits(dst, dt.Hour, 2); dst[at++] = (byte)':';
        Digits(dst, dt.Minute, 2); dst[at++] = (byte)':';
        Digits(dst, dt.Second, 2);
        if (Nanoseconds != 0)
        {
            dst[at++] = (byte)'.';
            int ns = Nanoseconds, width = 9;
            while (ns % 10 == 0) { ns /= 10; width--; }
            Digits(dst, ns, width);
        }
        dst[at++] = (byte)'Z';
        return at;
    }

    public static MapTime Parse(string s)
    {
        var dto = DateTimeOffset.Parse(s[..19] + "Z", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
        int nanos = 0;
        if (s.Length > 20 && s[19] == '.')
        {
            string frac = s[20..].TrimEnd('Z');
            nanos = int.Parse(frac.PadRight(9, '0')[..9], CultureInfo.InvariantCulture);
        }
        return new MapTime(dto.ToUnixTimeSeconds(), nanos);
    }
}
