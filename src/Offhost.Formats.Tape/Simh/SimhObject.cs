namespace Offhost.Formats.Tape.Simh;

/// <summary>
/// One object of a SIMH .tap image as found by <see cref="SimhCodec"/>: its kind, where it starts, how many
/// bytes of the image it occupies (<see cref="TotalBytes"/>, framing included) and, for records, the data length.
/// </summary>
/// <param name="Kind">Record, tape mark, gap or end of medium.</param>
/// <param name="OffsetBytes">Absolute byte offset of the object's first length word in the image.</param>
/// <param name="TotalBytes">Bytes of the image the object occupies; 0 for <see cref="SimhObjectKind.EndOfMedium"/>.</param>
/// <param name="DataBytes">Record data length in bytes (0 for markers).</param>
/// <param name="Bad">The record carries the 80h error flag in the top byte of its length words.</param>
public readonly record struct SimhObject(SimhObjectKind Kind, long OffsetBytes, long TotalBytes, int DataBytes, bool Bad)
{
    /// <summary>Offset of the record's first data byte in the image.</summary>
    public long DataOffsetBytes => OffsetBytes + SimhCodec.LengthWordBytes;

    /// <summary>Offset just past the object.</summary>
    public long EndOffsetBytes => OffsetBytes + TotalBytes;
}
