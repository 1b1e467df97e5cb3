using System.Buffers;
using System.Globalization;
using System.Text;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;

namespace Offhost.Formats.Tape.Pax;

/// <summary>
/// POSIX pax extended-header records: <c>"LEN KEY=VALUE\n"</c>, LEN counting the whole record in decimal.
/// Values are raw bytes (xattr values may be binary). Thread-safe (stateless).
/// </summary>
public static class PaxRecords
{
    /// <summary>Appends one record to <paramref name="output"/>.</summary>
    public static void Append(ArrayBufferWriter<byte> output, string key, ReadOnlySpan<byte> value)
    {
        if (key.Length == 0 || key.Contains('=') || key.Contains('\n') || key.Contains('\0'))
            throw new ArgumentException($"pax keyword '{key}' is empty or contains '=', newline or NUL", nameof(key));
        int keyBytes = Encoding.UTF8.GetByteCount(key);
        long body = 1L + keyBytes + 1 + value.Length + 1; // ' ' key '=' value '\n'
        long total = body + Digits(body);
        if (Digits(total) != Digits(body)) total = body + Digits(total);
        if (total > int.MaxValue) throw new ArgumentException("pax record too long", nameof(value));
        string len = total.ToString(CultureInfo.InvariantCulture);
        var span = output.GetSpan((int)total);
        int at = Encoding.ASCII.GetBytes(len, span);
        span[at++] = (byte)' ';
        at += Encoding.UTF8.GetBytes(key, span[at..]);
        span[at++] = (byte)'=';
        value.CopyTo(span[at..]);
        at += value.Length;
        span[at++] = (byte)'\n';
        output.Advance(at);
    }

    public static void Append(ArrayBufferWriter<byte> output, string key, string value) =>
        Append(output, key, Encoding.UTF8.GetBytes(value));

    /// <summary>A time as pax writes it: seconds, and if not whole, a dot and nine digits of fraction.</summary>
    public static string FormatTime(MapTime t)
    {
        if (t.Nanoseconds is < 0 or >= 1_000_000_000) throw new ArgumentOutOfRangeException(nameof(t), "nanoseconds out of range");
        if (t.Nanoseconds == 0) return t.UnixSeconds.ToString(CultureInfo.InvariantCulture);
        if (t.UnixSeconds >= 0)
            return string.Create(CultureInfo.InvariantCulture, $"{t.UnixSeconds}.{t.Nanoseconds:D9}");
        // MapTime is floor seconds + positive fraction; pax wants a signed decimal: -2 s + 0.25 s = "-1.750000000".
        long whole = -(t.UnixSeconds + 1);
        int frac = 1_000_000_000 - t.Nanoseconds;
        return string.Create(CultureInfo.InvariantCulture, $"-{whole}.{frac:D9}");
    }

    /// <summary>
    /// Parses a pax extended header body into (key, value) pairs. Hostile-input safe: every length is checked
    /// against the remaining bytes. <paramref name="baseOffsetBytes"/> is the body's offset, for error messages.
    /// </summary>
    public static List<KeyValuePair<string, byte[]>> Parse(ReadOnlySpan<byte> body, long baseOffsetBytes)
    {
        var result = new List<KeyValuePair<string, byte[]>>();
        int at = 0;
        while (at < body.Length)
        {
            if (body[at] == 0) break; // zero padding after the last record
            int space = body[at..].IndexOf((byte)' ');
            if (space is <= 0 or > 10) CorruptStructure.Throw("pax record", baseOffsetBytes + at, "no length field");
            if (!int.TryParse(body.Slice(at, space), NumberStyles.None, CultureInfo.InvariantCulture, out int len) || len < space + 4 || len > body.Length - at)
                CorruptStructure.Throw("pax record", baseOffsetBytes + at, $"length '{Encoding.ASCII.GetString(body.Slice(at, space))}' out of range");
            var record = body.Slice(at, len);
            if (record[^1] != (byte)'\n') CorruptStructure.Throw("pax record", baseOffsetBytes + at, "does not end in newline");
            var kv = record[(space + 1)..^1];
            int eq = kv.IndexOf((byte)'=');
            if (eq <= 0) CorruptStructure.Throw("pax record", baseOffsetBytes + at, "no keyword");
            string key;
            try { key = new UTF8Encoding(false, true).GetString(kv[..eq]); }
            catch (DecoderFallbackException) { key = CorruptStructure.Throw<string>("pax record", baseOffsetBytes + at, "keyword is not UTF-8"); }
            result.Add(new(key, kv[(eq + 1)..].ToArray()));
            at += len;
        }
        return result;
    }

    static int Digits(long v) => v.ToString(CultureInfo.InvariantCulture).Length;
}
