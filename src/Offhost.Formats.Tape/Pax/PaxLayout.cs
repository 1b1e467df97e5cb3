namespace Offhost.Formats.Tape.Pax;

/// <summary>Block arithmetic of tar archives and the layout of members. Thread-safe (stateless).</summary>
public static class PaxLayout
{
    /// <summary>A tar block: headers, data and padding come in whole blocks.</summary>
    public const int BlockBytes = 512;

    /// <summary>The end-of-archive marker: two zero blocks.</summary>
    public const int EndOfArchiveBytes = 2 * BlockBytes;

    public static long RoundUpToBlock(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        return checked(bytes + BlockBytes - 1) / BlockBytes * BlockBytes;
    }

    /// <summary>The layout of <paramref name="entry"/>'s member: header size and where each data range goes.</summary>
    public static PaxMemberLayout Of(PaxEntry entry) => PaxEntryEncoder.Encode(entry).Layout;

    /// <summary>The end-of-archive marker.</summary>
    public static byte[] EncodeEndOfArchive() => new byte[EndOfArchiveBytes];
}
