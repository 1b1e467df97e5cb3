using Offhost.Catalog;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Index;
using Offhost.Formats.Tape.Pax;
using Offhost.Server.CatalogRebuild;

namespace Offhost.Server.Backup;

/// <summary>
/// Records what a backup holds in the catalog, from its tape index and the storage maps stored in its archive: the
/// same source for a backup just written and for one rebuilt from a tape, so both catalogue alike. Paths are catalogued
/// as in the storage map ("/dir/file", per volume).
/// </summary>
public static class BackupCatalogue
{
    /// <summary>Writes every file of a running backup; returns how many and their data bytes (all streams).</summary>
    public static (long Files, long DataBytes) RecordFiles(Catalog.Catalog catalog, string backupId, string media, int archiveFile,
        TapeIndex index, IReadOnlyList<Restore.StoredMap> maps)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var files = Build(media, archiveFile, index, maps);
        long dataBytes = 0;
        using (var writer = catalog.BeginFiles(backupId))
        {
            foreach (var f in files)
            {
                writer.Add(f);
                if (f.Kind == CatalogFileKind.File) dataBytes += f.Streams.Sum(s => s.SizeBytes);
            }
            writer.Complete();
        }
        return (files.Count, dataBytes);
    }

    /// <summary>The backup's own members (storage maps, volume remainders under <c>.offhost/</c>) are not user files.</summary>
    static bool IsOwnMember(string member, int volumes) =>
        CatalogRestoreIndex.SplitMember(member, volumes).Path.StartsWith("/.offhost/", StringComparison.Ordinal);

    /// <summary>True when volume <paramref name="volume"/> (1-based) of the archive has its remainder member, i.e. the
    /// backup holds the whole volume and not a file set.</summary>
    public static bool HasRemainder(TapeIndex index, int volume, int volumes)
    {
        ArgumentNullException.ThrowIfNull(index);
        string name = CatalogRestoreIndex.MemberName($".offhost/volume-{volume}.remainder", volume, volumes);
        return index.Entries.Any(e => e.Path == name);
    }

    /// <summary>The catalog files of one backup: index members folded into files (alternate data stream members become
    /// streams, hard-link members become links), enriched with the storage map's extents and metadata.</summary>
    static List<CatalogFile> Build(string media, int archiveFile, TapeIndex index, IReadOnlyList<Restore.StoredMap> maps)
    {
        int volumes = Math.Max(1, maps.Count);
        var mapByMember = new Dictionary<string, (MapEntry Entry, int Volume)>(StringComparer.Ordinal);
        for (int v = 0; v < maps.Count; v++)
            foreach (var e in maps[v].Entries)
            {
                mapByMember.TryAdd(CatalogRestoreIndex.MemberName(e.Path, v + 1, volumes), (e, v + 1));
                foreach (var link in e.Links) mapByMember.TryAdd(CatalogRestoreIndex.MemberName(link, v + 1, volumes), (e, v + 1));
            }

        var files = new List<CatalogFile>();
        var byMember = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in index.Entries)
        {
            string member = entry.Path.TrimEnd('/');
            if (IsOwnMember(member, volumes)) continue;
            if (entry.Kind == PaxEntryKind.HardLink)
            {
                if (entry.LinkTarget is { } t && byMember.TryGetValue(t.TrimEnd('/'), out int at))
                {
                    var (vol, path) = CatalogRestoreIndex.SplitMember(member, volumes);
                    if (!files[at].Links.Contains(path)) files[at] = files[at] with { Links = [.. files[at].Links, path] };
                }
                continue;
            }
            var data = entry.Streams.FirstOrDefault(s => s.Storage == TapeStreamStorage.MemberData && s.MemberOffsetBytes == entry.MemberOffsetBytes);
            if (data is { Name.Length: > 0 } && member.EndsWith(":" + data.Name, StringComparison.Ordinal)
                && byMember.TryGetValue(member[..^(data.Name.Length + 1)], out int owner))
            {
                files[owner] = files[owner] with { Streams = Merge(files[owner].Streams, Stream(media, archiveFile, data)) };
                continue;
            }

            var (volume, mapPath) = CatalogRestoreIndex.SplitMember(member, volumes);
            CatalogFile file;
            if (mapByMember.TryGetValue(member, out var mapped))
                file = CatalogFile.FromMapEntry(mapped.Entry with { Links = [] }, mapped.Volume) with { Path = mapPath };
            else
            {
                var special = PaxEntryKinds.Special(entry.Kind);
                file = new CatalogFile(entry.Kind switch
                {
                    PaxEntryKind.Directory => CatalogFileKind.Directory,
                    PaxEntryKind.Symlink => CatalogFileKind.Symlink,
                    _ when special is not null => CatalogFileKind.Special,
                    _ => CatalogFileKind.File,
                }, mapPath)
                {
                    Special = special,
                    Device = entry.Device,
                    VolumeIndex = volume,
                    SizeBytes = entry.SizeBytes,
                    Mode = entry.Mode,
                    Uid = entry.Uid,
                    Gid = entry.Gid,
                    Modified = entry.Modified,
                    Target = entry.LinkTarget,
                };
            }
            var streams = new List<CatalogStream>();
            foreach (var s in entry.Streams)
            {
                var extents = file.Streams.FirstOrDefault(x => x.Name == s.Name)?.Extents ?? [];
                streams.Add(Stream(media, archiveFile, s) with { Extents = extents });
            }
            byMember[member] = files.Count;
            files.Add(file with { Streams = streams });
        }
        return files;
    }

    static CatalogStream Stream(string media, int archiveFile, TapeIndexStream s) => new(s.Name, s.SizeBytes)
    {
        Location = new TapeLocation(media, archiveFile, s.MemberOffsetBytes, s.DataOffsetBytes),
        XxHash64 = s.XxHash64,
    };

    static IReadOnlyList<CatalogStream> Merge(IReadOnlyList<CatalogStream> streams, CatalogStream added) =>
        [.. streams.Where(s => s.Name != added.Name), added];

}
