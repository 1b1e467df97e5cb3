using Offhost.Core.Mapping;

namespace Offhost.Formats.Tape.Pax;

/// <summary>
/// Everything the pax encoder needs to write one archive member's headers. Paths are archive member names:
/// '/'-separated, relative (a leading '/' is dropped, as GNU tar does), any Unicode.
/// </summary>
public sealed record PaxEntry(string Path, PaxEntryKind Kind)
{
    /// <summary>Logical size of the file in bytes (for sparse files the real size, holes included). 0 for non-files.</summary>
    public long SizeBytes { get; init; }

    /// <summary>Permission bits (07777); the file type comes from <see cref="Kind"/>.</summary>
    public uint Mode { get; init; } = 0b110_100_100; // 0644

    public uint Uid { get; init; }
    public uint Gid { get; init; }
    public string? UserName { get; init; }
    public string? GroupName { get; init; }

    public MapTime? Modified { get; init; }
    public MapTime? Accessed { get; init; }
    /// <summary>Status change time (ctime).</summary>
    public MapTime? Changed { get; init; }

    /// <summary>For <see cref="PaxEntryKind.CharDevice"/> and <see cref="PaxEntryKind.BlockDevice"/>: the device number
    /// (ustar devmajor/devminor); required for them, not allowed for other kinds.</summary>
    public DeviceNumber? Device { get; init; }

    /// <summary>Symlink target (verbatim) or, for hard links, the member name of the earlier entry.</summary>
    public string? LinkTarget { get; init; }

    /// <summary>Extended attributes by full name (<c>user.foo</c>); written as <c>SCHILY.xattr.NAME</c> records.</summary>
    public IReadOnlyDictionary<string, ReadOnlyMemory<byte>> Xattrs { get; init; } = NoXattrs;

    /// <summary>NTFS file attribute bits; written as the ntfs-3g xattr <c>system.ntfs_attrib_be</c>.</summary>
    public uint? NtfsAttributes { get; init; }

    /// <summary>NTFS creation time; written as the ntfs-3g xattr <c>system.ntfs_crtime_be</c> (FILETIME, big-endian).</summary>
    public MapTime? NtfsCreated { get; init; }

    /// <summary>
    /// When set, the file is stored as a GNU sparse 1.0 member: only these data ranges (sorted, non-overlapping,
    /// inside [0, <see cref="SizeBytes"/>)) are in the archive, each padded to 512 bytes.
    /// </summary>
    public IReadOnlyList<SparseSegment>? SparseMap { get; init; }

    static readonly IReadOnlyDictionary<string, ReadOnlyMemory<byte>> NoXattrs = new Dictionary<string, ReadOnlyMemory<byte>>();
}
