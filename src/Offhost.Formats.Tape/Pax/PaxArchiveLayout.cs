namespace Offhost.Formats.Tape.Pax;

/// <summary>A member placed in the archive: where it starts and its encoded header and layout.</summary>
/// <param name="MemberOffsetBytes">Archive byte offset of the member's first header block.</param>
public sealed record PaxPlacedMember(long MemberOffsetBytes, PaxEncodedMember Encoded)
{
    /// <summary>Archive byte offset of the member's data area (for sparse members, of the sparse map).</summary>
    public long DataOffsetBytes => MemberOffsetBytes + Encoded.Layout.DataOffsetBytes;

    /// <summary>Archive byte offset of each data range, in archive order.</summary>
    public IEnumerable<(PaxDataSegment Segment, long ArchiveOffsetBytes)> Ranges =>
        Encoded.Layout.Segments.Select(s => (s, MemberOffsetBytes + s.MemberOffsetBytes));
}

/// <summary>
/// Running layout of a whole archive: members are appended in order and each gets its archive offset, so a
/// planner knows before any byte moves where every header and data range will sit on tape. Pure; not thread-safe.
/// </summary>
public sealed class PaxArchiveLayout
{
    bool ended;

    /// <summary>Archive bytes laid out so far.</summary>
    public long LengthBytes { get; private set; }

    public PaxPlacedMember Add(PaxEntry entry)
    {
        if (ended) throw new InvalidOperationException("the archive already has its end-of-archive marker");
        var placed = new PaxPlacedMember(LengthBytes, PaxEntryEncoder.Encode(entry));
        LengthBytes = checked(LengthBytes + placed.Encoded.Layout.TotalBytes);
        return placed;
    }

    /// <summary>Appends the end-of-archive marker and returns its bytes (write them after the last member's data).</summary>
    public byte[] End()
    {
        if (ended) throw new InvalidOperationException("end-of-archive marker already added");
        ended = true;
        LengthBytes += PaxLayout.EndOfArchiveBytes;
        return PaxLayout.EncodeEndOfArchive();
    }
}
