using System.Globalization;

namespace Offhost.Cli.Output;

/// <summary>Human-readable sizes (binary units) and size parsing for options like --capacity 10G.</summary>
public static class Units
{
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double v = bytes;
        int u = 0;
        while (Math.Abs(v) >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        return u == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{v:F1} {units[u]}");
    }

    /// <summary>Parses "10G", "512M", "4096", "1.5T" (binary multiples) into bytes.</summary>
    public static long ParseBytes(string text)
    {
        text = text.Trim();
        long multiplier = 1;
        char last = char.ToUpperInvariant(text.Length > 0 ? text[^1] : '0');
        if (last == 'B' && text.Length > 1) { text = text[..^1]; last = char.ToUpperInvariant(text[^1]); }
        if (last is 'I') { text = text[..^1]; last = char.ToUpperInvariant(text[^1]); }
        switch (last)
        {
            case 'K': multiplier = 1L << 10; break;
            case 'M': multiplier = 1L << 20; break;
            case 'G': multiplier = 1L << 30; break;
            case 'T': multiplier = 1L << 40; break;
            case 'P': multiplier = 1L << 50; break;
        }
        if (multiplier != 1) text = text[..^1];
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value < 0)
            throw new FormatException($"'{text}' is not a size (examples: 4096, 512M, 10G)");
        return checked((long)(value * multiplier));
    }

    /// <summary>Parses "3s", "80s", "500ms", "2m", "1h" or a bare number of seconds.</summary>
    public static TimeSpan ParseDuration(string text)
    {
        text = text.Trim();
        double Parse(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (text.EndsWith("ms", StringComparison.Ordinal)) return TimeSpan.FromMilliseconds(Parse(text[..^2]));
        if (text.EndsWith('s')) return TimeSpan.FromSeconds(Parse(text[..^1]));
        if (text.EndsWith('m')) return TimeSpan.FromMinutes(Parse(text[..^1]));
        if (text.EndsWith('h')) return TimeSpan.FromHours(Parse(text[..^1]));
        return TimeSpan.FromSeconds(Parse(text));
    }
}
