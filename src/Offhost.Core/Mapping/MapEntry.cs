namespace Offhost.Core.Mapping;

/// <summary>What a storage-map entry is. <see cref="Special"/>: a FIFO, device node or socket
/// (<see cref="MapEntry.Special"/> says which).</summary>
public enum MapEntryKind { File, Directory, Symlink, Unmappable, Special }

/// <summary>
/// One file, directory or link of a storage map. Entries are produced one at a time by a mapper and written
/// out as they come, so a volume of millions of files never needs them all in memory at once.
/// </summary>
public sealed record MapEntry(MapEntryKind Kind, string Path, ulong Id)
{
    /// <summary>Other names of the same file (hard links), as absolute paths.</summary>
    public IReadOnlyList<string> Links { get; init; } = [];

    /// <summary>NTFS sequence number, ext inode generation.</summary>
    public uint Sequence { get; init; }

    /// <summary>Size of the unnamed stream in bytes.</summary>
    public long SizeBytes { get; init; }

    /// <summary>NTFS file attributes (<c>readonly</c>, <c>hidden</c>, <c>archive</c>, …) or ext inode flags.</summary>
    public IReadOnlyList<string> Attributes { get; init; } = [];

    public MapTime? Created { get; init; }
    public MapTime? Modified { get; init; }
    /// <summary>Metadata change time (NTFS MFT change time, ext ctime).</summary>
    public MapTime? Changed { get; init; }
    public MapTime? Accessed { get; init; }

    /// <summary>Link target for symlinks and junctions; null otherwise.</summary>
    public string? Target { get; init; }

    /// <summary>Reparse kind for NTFS links: <c>symlink</c>, <c>junction</c>; null otherwise.</summary>
    public string? LinkKind { get; init; }

    /// <summary>POSIX mode bits including the file type (ext); null where the format has none.</summary>
    public uint? Mode { get; init; }
    public uint? Uid { get; init; }
    public uint? Gid { get; init; }

    /// <summary>Extended attributes by full name (<c>user.foo</c>, <c>security.selinux</c>); empty when none.</summary>
    public IReadOnlyDictionary<string, ReadOnlyMemory<byte>> Xattrs { get; init; } = EmptyXattrs;

    public IReadOnlyList<MapStream> Streams { get; init; } = [];

    /// <summary>For <see cref="MapEntryKind.Special"/>: which kind of special file; null otherwise.</summary>
    public SpecialFileKind? Special { get; init; }

    /// <summary>For character and block devices: the device number the node stands for; null otherwise.</summary>
    public DeviceNumber? Device { get; init; }

    /// <summary>For <see cref="MapEntryKind.Unmappable"/>: why, naming the structure and byte offset.</summary>
    public string? Error { get; init; }

    static readonly IReadOnlyDictionary<string, ReadOnlyMemory<byte>> EmptyXattrs = new Dictionary<string, ReadOnlyMemory<byte>>();
}
