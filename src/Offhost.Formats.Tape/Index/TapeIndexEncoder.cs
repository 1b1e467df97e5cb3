using System.Buffers;

namespace Offhost.Formats.Tape.Index;

/// <summary>Whole-index convenience over <see cref="TapeIndexWriter"/>. Thread-safe (stateless).</summary>
public static class TapeIndexEncoder
{
    public static byte[] Encode(TapeIndexHeader header, IEnumerable<TapeIndexEntry> entries)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new TapeIndexWriter(buffer, header);
        foreach (var e in entries) writer.Add(e);
        writer.Complete();
        return buffer.WrittenSpan.ToArray();
    }
}
