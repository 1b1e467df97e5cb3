using Offhost.Core.Mapping;

namespace Offhost.Formats.Tape.Pax;

/// <summary>
/// One archive member as <see cref="PaxHeaderReader"/> decoded it: the effective values after pax extended
/// records override the ustar fields, and the member's byte layout. Names are verbatim from the archive (they may
/// be hostile: absolute, with <c>..</c>); whoever writes files must check them.
/// </summary>
/// <param name="Path">Member name (GNU.sparse.name, pax path, or ustar prefix/name); directories without the trailing '/'.</param>
/// <param name="Kind">Member type; <see cref="PaxEntryKind.File"/> also for unknown typeflags (see <see cref="TypeFlag"/>).
/// A '0' member marked <c>SCHILY.filetype=socket</c> is <see cref="PaxEntryKind.Socket"/>.</param>
/// <param name="ArchiveOffsetBytes">Offset of the member's first header block within the archive tape file.</param>
/// <param name="Layout">Header bytes (extended header, ustar block, sparse map), data segments and total size.</param>
public sealed record PaxMemberHeader(string Path, PaxEntryKind Kind, long ArchiveOffsetBytes, PaxMemberLayout Layout)
{
    /// <summary>The raw ustar typeflag byte.</summary>
    public byte TypeFlag { get; init; }
    /// <summary>Logical size in bytes (for sparse members the real size, holes included).</summary>
    public long SizeBytes { get; init; }
    /// <summary>The ustar/pax "size": bytes of the data area (for sparse members the map and the stored ranges).</summary>
    public long DataAreaBytes { get; init; }
    public bool Sparse { get; init; }
    public uint Mode { get; init; }
    public long Uid { get; init; }
    public long Gid { get; init; }
    public string? UserName { get; init; }
    public string? GroupName { get; init; }
    public MapTime? Modified { get; init; }
    public MapTime? Accessed { get; init; }
    public MapTime? Changed { get; init; }
    public string? LinkTarget { get; init; }
    /// <summary>For character and block device members, the device number (ustar devmajor/devminor, or star's
    /// <c>SCHILY.devmajor</c>/<c>SCHILY.devminor</c> records); null otherwise.</summary>
    public DeviceNumber? Device { get; init; }
    /// <summary>Extended attributes from <c>SCHILY.xattr.NAME</c> records, names decoded (<c>%25</c>, <c>%3D</c>).</summary>
    public IReadOnlyDictionary<string, byte[]> Xattrs { get; init; } = new Dictionary<string, byte[]>();
}
