using System.Text.Json;

namespace Offhost.Server.Backup;

/// <summary>
/// The last line of a storage map stored in a backup, when the file system's allocation bitmap was read:
/// <c>{"type":"allocation","ranges":[[start,length],…]}</c> in device bytes. The restore needs it to recompute
/// the layout of the volume's remainder member.
/// </summary>
public static class AllocationRecord
{
    public const string Type = "allocation";

    public static void Write(Utf8JsonWriter w, IEnumerable<(long StartBytes, long LengthBytes)> ranges)
    {
        w.WriteStartObject();
        w.WriteString("type", Type);
        w.WriteStartArray("ranges");
        foreach (var (start, length) in ranges)
        {
            w.WriteStartArray();
            w.WriteNumberValue(start);
            w.WriteNumberValue(length);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The ranges when the UTF-8 <paramref name="line"/> is an allocation record, else null (a map entry: its own
    /// quotes inside strings are escaped, so the marker cannot occur in one).</summary>
    public static List<(long StartBytes, long LengthBytes)>? TryRead(ReadOnlyMemory<byte> line)
    {
        if (line.Span.IndexOf("\"type\":\"allocation\""u8) < 0) return null;
        using var doc = JsonDocument.Parse(line);
        return doc.RootElement.GetProperty("ranges").EnumerateArray()
            .Select(r => (r[0].GetInt64(), r[1].GetInt64())).ToList();
    }
}
