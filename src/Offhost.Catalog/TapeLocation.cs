namespace Offhost.Catalog;

/// <summary>Where a stream's bytes lie on tape: the medium, the tape file number, and byte offsets within that
/// tape file's archive of the pax header block and of the first data byte.</summary>
public readonly record struct TapeLocation(string MediaLabel, int FileNumber, long HeaderOffsetBytes, long DataOffsetBytes);
