namespace Offhost.Formats.Tape.Pax;

/// <summary>A range of a sparse file that holds data (everything outside the listed segments reads as zeros).</summary>
/// <param name="OffsetBytes">Offset within the file.</param>
/// <param name="LengthBytes">Length of the data range.</param>
public readonly record struct SparseSegment(long OffsetBytes, long LengthBytes)
{
    public long EndBytes => OffsetBytes + LengthBytes;
}
