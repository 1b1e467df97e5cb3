using System.Text;

namespace Offhost.Iscsi.Text;

/// <summary>
/// The key=value text of Login and Text PDUs (RFC 7143 §6): UTF-8 pairs each ended by a NUL byte, kept in
/// order (SendTargets repeats TargetAddress keys). Parsing checks every length before allocating.
/// Not thread-safe.
/// </summary>
public sealed class TextParameters
{
    /// <summary>Longest key (RFC 7143 §6.1).</summary>
    public const int MaxKeyBytes = 63;
    /// <summary>Longest value we accept; standard values are at most 255 bytes, binary ones (CHAP) up to 8192 hex digits.</summary>
    public const int MaxValueBytes = 16 * 1024;

    readonly List<KeyValuePair<string, string>> _pairs = [];

    public IReadOnlyList<KeyValuePair<string, string>> Pairs => _pairs;

    public int Count => _pairs.Count;

    public void Add(string key, string value)
    {
        Validate(key, value);
        _pairs.Add(new(key, value));
    }

    /// <summary>The first value of <paramref name="key"/>, or null.</summary>
    public string? this[string key]
    {
        get
        {
            foreach (var p in _pairs)
                if (p.Key == key) return p.Value;
            return null;
        }
    }

    public bool Contains(string key) => this[key] is not null;

    /// <summary>Appends every pair of <paramref name="other"/> (for text continued over several PDUs).</summary>
    public void AddRange(TextParameters other) => _pairs.AddRange(other._pairs);

    public byte[] Encode()
    {
        int length = 0;
        foreach (var p in _pairs) length += Encoding.UTF8.GetByteCount(p.Key) + 1 + Encoding.UTF8.GetByteCount(p.Value) + 1;
        var bytes = new byte[length];
        int at = 0;
        foreach (var p in _pairs)
        {
            at += Encoding.UTF8.GetBytes(p.Key, bytes.AsSpan(at));
            bytes[at++] = (byte)'=';
            at += Encoding.UTF8.GetBytes(p.Value, bytes.AsSpan(at));
            bytes[at++] = 0;
        }
        return bytes;
    }

    /// <summary>Parses a complete text segment. Trailing NUL padding is allowed; a pair without '=' , an empty
    /// or over-long key, an over-long value or invalid UTF-8 throws <see cref="IscsiProtocolException"/>.</summary>
    public static TextParameters Parse(ReadOnlySpan<byte> text)
    {
        var result = new TextParameters();
        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        int at = 0;
        while (at < text.Length)
        {
            var rest = text[at..];
            int nul = rest.IndexOf((byte)0);
            if (nul == 0) { at++; continue; }                        // padding or an empty pair
            if (nul < 0) throw new IscsiProtocolException($"text pair at byte {at} is not terminated by NUL");
            var pair = rest[..nul];
            int eq = pair.IndexOf((byte)'=');
            if (eq <= 0) throw new IscsiProtocolException($"text pair at byte {at} has {(eq == 0 ? "an empty key" : "no '='")}");
            if (eq > MaxKeyBytes) throw new IscsiProtocolException($"key at byte {at} is {eq} bytes, longer than {MaxKeyBytes}");
            int valueLength = nul - eq - 1;
            if (valueLength > MaxValueBytes) throw new IscsiProtocolException($"value at byte {at + eq + 1} is {valueLength} bytes, longer than {MaxValueBytes}");
            string key, value;
            try
            {
                key = utf8.GetString(pair[..eq]);
                value = utf8.GetString(pair[(eq + 1)..]);
            }
            catch (DecoderFallbackException e)
            {
                throw new IscsiProtocolException($"text pair at byte {at} is not valid UTF-8", e);
            }
            result._pairs.Add(new(key, value));
            at += nul + 1;
        }
        return result;
    }

    static void Validate(string key, string value)
    {
        int keyBytes = Encoding.UTF8.GetByteCount(key);
        if (keyBytes == 0 || keyBytes > MaxKeyBytes || key.Contains('=', StringComparison.Ordinal) || key.Contains('\0', StringComparison.Ordinal))
            throw new ArgumentException($"invalid iSCSI key '{key}'", nameof(key));
        if (Encoding.UTF8.GetByteCount(value) > MaxValueBytes || value.Contains('\0', StringComparison.Ordinal))
            throw new ArgumentException($"invalid value for iSCSI key '{key}'", nameof(value));
    }

    public override string ToString() =>
        string.Join(' ', _pairs.Select(p => p.Key is "CHAP_R" or "CHAP_C" ? $"{p.Key}=…" : $"{p.Key}={p.Value}"));
}
