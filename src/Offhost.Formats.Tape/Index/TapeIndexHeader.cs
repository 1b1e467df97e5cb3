using Offhost.Core.Mapping;

namespace Offhost.Formats.Tape.Index;

/// <summary>The header of a backup's on-tape index (docs/formats/tape-format.md, "Index tape file").</summary>
/// <param name="BackupId">Identity of the backup.</param>
/// <param name="SourceDescription">Free text naming what was backed up (host, volume, snapshot); at most 4096 UTF-8 bytes.</param>
/// <param name="Created">When the backup was taken (the frozen image's time).</param>
/// <param name="ArchiveFileNumber">Tape file number of the archive this index describes (the index is the next tape file).</param>
public sealed record TapeIndexHeader(Guid BackupId, string SourceDescription, MapTime Created, long ArchiveFileNumber);
