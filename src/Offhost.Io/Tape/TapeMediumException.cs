namespace Offhost.Io.Tape;

/// <summary>
/// A record on the medium is flagged bad (SIMH error flag, a drive's MEDIUM ERROR). The position is already past
/// the record, so a reader may skip it and go on.
/// </summary>
public sealed class TapeMediumException(string message, long offsetBytes, int recordBytes) : IOException(message)
{
    /// <summary>Byte offset of the record in the image.</summary>
    public long OffsetBytes { get; } = offsetBytes;

    /// <summary>True length of the bad record.</summary>
    public int RecordBytes { get; } = recordBytes;
}
