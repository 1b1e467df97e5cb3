namespace Offhost.Core.Mapping;

/// <summary>
/// A file system opened for mapping. <see cref="Volume"/> is known once the mapper is created;
/// <see cref="Entries"/> streams the files. A damaged file comes out as an entry of kind
/// <see cref="MapEntryKind.Unmappable"/> with the reason, and mapping goes on with the next file.
/// Damage that prevents mapping anything (a bad boot sector or superblock) throws
/// <see cref="Errors.CorruptStructureException"/> from the factory instead.
/// </summary>
public interface IVolumeMapper
{
    VolumeInfo Volume { get; }

    /// <summary>Enumerates every file, directory and link. Single pass; not thread-safe.</summary>
    IEnumerable<MapEntry> Entries(CancellationToken cancellationToken);

    /// <summary>Counters for the summary, filled as <see cref="Entries"/> runs.</summary>
    MapStatistics Statistics { get; }
}

/// <summary>Counts kept while mapping, for the person-readable summary and the benchmarks.</summary>
public sealed class MapStatistics
{
    /// <summary>FILE records or inodes examined, used or not.</summary>
    public long RecordsScanned { get; set; }
    /// <summary>Metadata bytes read from the device.</summary>
    public long MetadataBytesRead { get; set; }
}
