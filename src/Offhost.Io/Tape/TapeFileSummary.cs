namespace Offhost.Io.Tape;

/// <summary>One tape file found by <see cref="SimhTapeDevice.ScanAsync"/>.</summary>
/// <param name="FileNumber">0-based tape file number (filemarks before it).</param>
/// <param name="Records">Data records in the file.</param>
/// <param name="DataBytes">Sum of record lengths (payload, framing excluded).</param>
/// <param name="StartOffsetBytes">Byte offset of the file's first object in the image.</param>
/// <param name="EndedByFilemark">False for a last file not closed by a filemark (an interrupted write).</param>
public sealed record TapeFileSummary(long FileNumber, long Records, long DataBytes, long StartOffsetBytes, bool EndedByFilemark);
