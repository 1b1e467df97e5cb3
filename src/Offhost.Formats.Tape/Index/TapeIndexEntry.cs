using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Pax;

namespace Offhost.Formats.Tape.Index;

/// <summary>How a stream's bytes are stored in the archive.</summary>
public enum TapeStreamStorage : byte
{
    /// <summary>In the data area of an archive member (the file's own member, or a separate member for an alternate data stream).</summary>
    MemberData = 0,
    /// <summary>As a <c>SCHILY.xattr.user.NAME</c> record in the file's extended header (small alternate data streams).</summary>
    ExtendedHeader = 1,
}

/// <summary>One data stream of an indexed file: the unnamed stream ("") or an NTFS alternate data stream.</summary>
/// <param name="Name">Stream name; "" for the file's data.</param>
/// <param name="SizeBytes">Logical size (for sparse streams, holes included).</param>
/// <param name="MemberOffsetBytes">Archive byte offset of the first header block of the member holding the stream.</param>
/// <param name="DataOffsetBytes">Archive byte offset of the stream's first stored byte (for sparse members, of the sparse map).</param>
/// <param name="XxHash64">xxHash64 (seed 0) of the stream's logical bytes, holes read as zeros.</param>
public sealed record TapeIndexStream(string Name, long SizeBytes, long MemberOffsetBytes, long DataOffsetBytes, ulong XxHash64)
{
    public TapeStreamStorage Storage { get; init; } = TapeStreamStorage.MemberData;
    public bool Sparse { get; init; }
}

/// <summary>One file, directory, link or special file of a backup, and where its bytes sit in the archive tape file.</summary>
/// <param name="Path">Archive member name.</param>
/// <param name="Kind">Member type.</param>
/// <param name="MemberOffsetBytes">Archive byte offset of the member's first header block.</param>
public sealed record TapeIndexEntry(string Path, PaxEntryKind Kind, long MemberOffsetBytes)
{
    /// <summary>Size of the unnamed stream in bytes.</summary>
    public long SizeBytes { get; init; }
    public uint Mode { get; init; }
    public uint Uid { get; init; }
    public uint Gid { get; init; }
    public MapTime? Modified { get; init; }
    /// <summary>Symlink target or hard-link member name; null otherwise.</summary>
    public string? LinkTarget { get; init; }
    /// <summary>For character and block devices, the device number; null otherwise.</summary>
    public DeviceNumber? Device { get; init; }
    public IReadOnlyList<TapeIndexStream> Streams { get; init; } = [];
}
