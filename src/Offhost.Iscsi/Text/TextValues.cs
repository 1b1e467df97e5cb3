using System.Globalization;

namespace Offhost.Iscsi.Text;

/// <summary>Encodings of text values (RFC 7143 §6.1): numbers (decimal or 0x hex), booleans, and binary
/// values as 0x hex or 0b base64. Stateless.</summary>
public static class TextValues
{
    /// <summary>Largest binary value accepted (bytes).</summary>
    public const int MaxBinaryBytes = 1024;

    public static string Bool(bool value) => value ? "Yes" : "No";

    public static bool ParseBool(string key, string value) => value switch
    {
        "Yes" => true,
        "No" => false,
        _ => throw new IscsiProtocolException($"{key}={value} is not Yes or No"),
    };

    /// <summary>Parses a decimal or 0x-hex number in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static long ParseNumber(string key, string value, long min, long max)
    {
        bool ok = value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(value.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long n) && value.Length <= 18
            : long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out n);
        if (!ok || n < min || n > max)
            throw new IscsiProtocolException($"{key}={value} is not a number in {min}..{max}");
        return n;
    }

    public static string Hex(ReadOnlySpan<byte> bytes) => "0x" + Convert.ToHexStringLower(bytes);

    /// <summary>Decodes a 0x (hex) or 0b (base64) binary value.</summary>
    public static byte[] ParseBinary(string key, string value)
    {
        if (value.Length > 2 + MaxBinaryBytes * 2)
            throw new IscsiProtocolException($"{key} value is longer than {MaxBinaryBytes} bytes");
        try
        {
            if (value.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            {
                var hex = value.AsSpan(2);
                if (hex.Length == 0) throw new FormatException("empty");
                // RFC 7143 allows an odd number of hex digits: a leading zero nibble is implied.
                return hex.Length % 2 == 1 ? Convert.FromHexString("0" + hex.ToString()) : Convert.FromHexString(hex);
            }
            if (value.StartsWith("0b", StringComparison.OrdinalIgnoreCase))
                return Convert.FromBase64String(value[2..]);
        }
        catch (FormatException e)
        {
            throw new IscsiProtocolException($"{key} is not a valid binary value", e);
        }
        throw new IscsiProtocolException($"{key} binary value does not start with 0x or 0b");
    }
}
