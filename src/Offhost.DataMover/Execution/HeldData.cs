namespace Offhost.DataMover.Execution;

/// <summary>Data the "+hold" segment types (0Bh-0Dh, 0Fh) keep for RECEIVE COPY RESULTS RECEIVE DATA, bounded by the
/// HELD DATA LIMIT; anything beyond is discarded and reported (HDD).</summary>
internal sealed class HeldData(int limitBytes)
{
    readonly List<byte[]> parts = [];
    int heldBytes;

    public bool Discarded { get; private set; }

    public void Append(ReadOnlySpan<byte> data)
    {
        int room = limitBytes - heldBytes;
        if (data.Length > room) Discarded = true;
        int n = Math.Min(room, data.Length);
        if (n <= 0) return;
        parts.Add(data[..n].ToArray());
        heldBytes += n;
    }

    public byte[] ToArray() => parts.SelectMany(p => p).ToArray();
}
