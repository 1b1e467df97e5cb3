using Offhost.Core.Mapping;

namespace Offhost.Catalog;

/// <summary>One file, directory, link or special file of a backup with its metadata and streams.</summary>
public sealed record CatalogFile(CatalogFileKind Kind, string Path)
{
    /// <summary>Row id, assigned by the catalog; 0 before insertion.</summary>
    public long Id { get; init; }

    /// <summary>Which of the backup's sources the file lives on.</summary>
    public int VolumeIndex { get; init; }

    /// <summary>Other names of the same file (hard links).</summary>
    public IReadOnlyList<string> Links { get; init; } = [];

    public long SizeBytes { get; init; }
    public uint? Mode { get; init; }
    public uint? Uid { get; init; }
    public uint? Gid { get; init; }

    /// <summary>NTFS file attributes or ext inode flags, by name.</summary>
    public IReadOnlyList<string> Attributes { get; init; } = [];

    public MapTime? Created { get; init; }
    public MapTime? Modified { get; init; }
    public MapTime? Changed { get; init; }
    public MapTime? Accessed { get; init; }

    public string? Target { get; init; }
    public string? LinkKind { get; init; }

    public IReadOnlyDictionary<string, byte[]> Xattrs { get; init; } = new Dictionary<string, byte[]>();

    /// <summary>Streams; empty in results of <see cref="Catalog.FindFiles"/>, filled by <see cref="Catalog.GetFile"/>.</summary>
    public IReadOnlyList<CatalogStream> Streams { get; init; } = [];

    public string? Error { get; init; }

    /// <summary>For <see cref="CatalogFileKind.Special"/>: which kind of special file; null otherwise.</summary>
    public SpecialFileKind? Special { get; init; }

    /// <summary>For character and block devices: the device number; null otherwise.</summary>
    public DeviceNumber? Device { get; init; }

    /// <summary>The kind as <c>offhost files</c> names it: file, directory, symlink, unmappable, or the special kind
    /// (fifo, chardev, blockdev, socket).</summary>
    public string KindName => Kind == CatalogFileKind.Special && Special is { } s ? SpecialFiles.Name(s) : Kind.ToString().ToLowerInvariant();

    /// <summary>Builds a catalog file from a storage-map entry. Streams get their source extents (device
    /// <paramref name="deviceIndex"/>) but no tape location or checksum; the caller adds those as data is written.</summary>
    public static CatalogFile FromMapEntry(MapEntry entry, int volumeIndex, int deviceIndex = 0)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var kind = entry.Kind switch
        {
            MapEntryKind.File => CatalogFileKind.File,
            MapEntryKind.Directory => CatalogFileKind.Directory,
            MapEntryKind.Symlink => CatalogFileKind.Symlink,
            MapEntryKind.Special => CatalogFileKind.Special,
            _ => CatalogFileKind.Unmappable,
        };
        return new CatalogFile(kind, entry.Path)
        {
            VolumeIndex = volumeIndex,
            Links = entry.Links,
            SizeBytes = entry.SizeBytes,
            Mode = entry.Mode,
            Uid = entry.Uid,
            Gid = entry.Gid,
            Attributes = entry.Attributes,
            Created = entry.Created,
            Modified = entry.Modified,
            Changed = entry.Changed,
            Accessed = entry.Accessed,
            Target = entry.Target,
            LinkKind = entry.LinkKind,
            Xattrs = entry.Xattrs.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal),
            Error = entry.Error,
            Special = entry.Special,
            Device = entry.Device,
            Streams = entry.Streams.Select(s => new CatalogStream(s.Name, s.SizeBytes)
            {
                Extents = s.Extents
                    .Where(e => e.Kind == ExtentKind.Data)
                    .Select(e => new SourceExtent(deviceIndex, e.Lba, e.Blocks, e.OffsetBytes))
                    .Concat(s.Extents.Where(e => e.Kind == ExtentKind.Compressed)
                        .SelectMany(e => e.Runs.Select(r => new SourceExtent(deviceIndex, r.Lba, r.Blocks, e.OffsetBytes))))
                    .OrderBy(x => x.StreamOffsetBytes)
                    .ToList(),
            }).ToList(),
        };
    }
}
