namespace Offhost.Formats.Tape.Index;

/// <summary>A decoded index: header and entries in archive order.</summary>
public sealed record TapeIndex(TapeIndexHeader Header, IReadOnlyList<TapeIndexEntry> Entries);
