namespace Offhost.Formats.Tape.Pax;

/// <summary>Where a range of a file's bytes sits inside its archive member.</summary>
/// <param name="FileOffsetBytes">Offset of the range within the file.</param>
/// <param name="LengthBytes">Bytes of file data (the archive then holds padding up to the next 512-byte block).</param>
/// <param name="MemberOffsetBytes">Offset of the range's first byte from the start of the member's first header block.</param>
public readonly record struct PaxDataSegment(long FileOffsetBytes, long LengthBytes, long MemberOffsetBytes)
{
    /// <summary>Archive bytes the range occupies: its length rounded up to 512.</summary>
    public long PaddedBytes => PaxLayout.RoundUpToBlock(LengthBytes);
}
