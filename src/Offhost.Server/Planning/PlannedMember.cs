using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Pax;

namespace Offhost.Server.Planning;

/// <summary>Where one stream's logical bytes sit in the archive, for checksums and restore.</summary>
/// <param name="FileOffsetBytes">Offset within the stream.</param>
/// <param name="ArchiveOffsetBytes">Offset of the same byte within the archive tape file.</param>
/// <param name="LengthBytes">Bytes stored (no padding); ranges not listed read as zeros.</param>
public readonly record struct StoredRange(long FileOffsetBytes, long ArchiveOffsetBytes, long LengthBytes);

/// <summary>One stream of a planned member: its name, logical size and stored ranges.</summary>
public sealed record PlannedStream(string Name, long SizeBytes, long MemberOffsetBytes, long DataOffsetBytes, IReadOnlyList<StoredRange> Ranges)
{
    /// <summary>True when the stream travels as a SCHILY.xattr record in the member's extended header.</summary>
    public bool InExtendedHeader { get; init; }
    /// <summary>For streams carried in the extended header: their bytes, so the checksum needs no tape read.</summary>
    public ReadOnlyMemory<byte>? InlineBytes { get; init; }
    public bool Sparse { get; init; }
}

/// <summary>One archive member as planned: where it starts, what it holds, and the steps that write it.</summary>
public sealed record PlannedMember(MapEntry Source, PaxEntry Pax, long MemberOffsetBytes, long TotalBytes, IReadOnlyList<CopyOp> Ops)
{
    public IReadOnlyList<PlannedStream> Streams { get; init; } = [];
}
