namespace Offhost.Formats.Tape.Pax;

/// <summary>
/// The byte layout of one archive member: headers (from <see cref="PaxEntryEncoder.EncodeHeader"/>), then file data
/// in <see cref="Segments"/>, each padded to a 512-byte block. All offsets are relative to the member's start.
/// </summary>
/// <param name="HeaderBytes">Bytes returned by <see cref="PaxEntryEncoder.EncodeHeader"/> (a multiple of 512).</param>
/// <param name="Segments">File data ranges in archive order; empty for members without data.</param>
/// <param name="TotalBytes">Whole member: headers plus padded data.</param>
public sealed record PaxMemberLayout(long HeaderBytes, IReadOnlyList<PaxDataSegment> Segments, long TotalBytes)
{
    /// <summary>Offset of the first data byte (the data area starts right after the headers).</summary>
    public long DataOffsetBytes => HeaderBytes;
}
