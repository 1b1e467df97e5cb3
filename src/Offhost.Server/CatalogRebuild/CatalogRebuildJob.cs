using Offhost.Catalog;
using Offhost.Core.Devices;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Index;
using Offhost.Formats.Tape.Label;
using Offhost.Formats.Tape.Pax;
using Offhost.Io.Tape;
using Offhost.Server.Restore;

using Offhost.Server.Media;

namespace Offhost.Server.CatalogRebuild;

/// <summary>The outcome of rebuilding the catalog from one tape.</summary>
/// <param name="MediaLabel">The tape's volume serial.</param>
/// <param name="BackupsAdded">Catalog ids of the backups added.</param>
/// <param name="BackupsAlreadyPresent">Archives the catalog already knew (left as they were).</param>
/// <param name="Files">Files, directories and links added.</param>
/// <param name="Problems">Tape files that could not be catalogued, and why.</param>
public sealed record CatalogRebuildResult(string MediaLabel, IReadOnlyList<string> BackupsAdded, int BackupsAlreadyPresent, long Files,
    IReadOnlyList<string> Problems);

/// <summary>
/// Rebuilds catalog entries from a tape alone: the volume label names the medium; every archive followed by its
/// index becomes a good backup with its tape files, and every indexed member a catalogued file whose streams carry
/// their tape location and checksum; source extents, attributes and times come from the storage map stored in the
/// archive. Idempotent: an archive the catalog already records at the same tape position is left alone.
/// Paths are catalogued as in the storage map ("/dir/file", per volume).
/// </summary>
public static class CatalogRebuildJob
{
    public static async Task<CatalogRebuildResult> RunAsync(IStreamDevice tape, Catalog.Catalog catalog, Action<long>? progressBytes, CancellationToken cancellationToken)
    {
        var files = (await TapeMedium.ScanAsync(tape, null, cancellationToken))
            .Select(f => (Number: checked((int)f.FileNumber), f.Records, Bytes: f.DataBytes)).ToList();
        var label = await TapeMedium.ReadLabelAsync(tape, cancellationToken)
            ?? throw new Core.Errors.UserFacingException("the tape has no Offhost volume label in tape file 0; it cannot be catalogued", 2);
        if (catalog.GetMedia(label.VolumeId) is null)
            catalog.AddMedia(new MediaRecord(label.VolumeId, label.CapacityBytes) { FirstUsedAt = label.Created.ToDateTimeOffset() });
        var known = catalog.ListTapeFiles(label.VolumeId);
        if (!known.Any(f => f.FileNumber == 0)) catalog.AddTapeFile(new TapeFileRecord(label.VolumeId, 0, TapeFileKind.Label, files[0].Records, files[0].Bytes, null));

        var added = new List<string>();
        var problems = new List<string>();
        int present = 0;
        long fileCount = 0;
        for (int i = 1; i < files.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (number, records, bytes) = files[i];
            if (records == 0) continue;
            if (await IsIndexAsync(tape, number, cancellationToken)) continue;   // handled with its archive
            if (i + 1 >= files.Count || !await IsIndexAsync(tape, files[i + 1].Number, cancellationToken))
            {
                problems.Add($"tape file {number}: an archive without an index after it (an interrupted backup?); not catalogued");
                continue;
            }
            var existing = known.FirstOrDefault(f => f.FileNumber == number && f.Kind == TapeFileKind.Archive);
            if (existing?.BackupId is { } id && catalog.GetBackup(id) is not null) { present++; continue; }

            try
            {
                var index = await VolumeRestoreJob.ReadIndexAsync(tape, number, cancellationToken);
                var maps = await VolumeRestoreJob.ReadMapsAsync(tape, number, index, cancellationToken);
                string backupId = Catalogue(catalog, label.VolumeId, number, records, bytes, files[i + 1], index, maps, ref fileCount);
                added.Add(backupId);
                progressBytes?.Invoke(bytes);
            }
            catch (Exception e) when (e is InvalidDataException or Core.Errors.CorruptStructureException or Core.Errors.UserFacingException)
            {
                problems.Add($"tape file {number}: {e.Message}");
            }
        }
        return new CatalogRebuildResult(label.VolumeId, added, present, fileCount, problems);
    }

    static string Catalogue(Catalog.Catalog catalog, string media, int archiveFile, long records, long bytes, (int Number, long Records, long Bytes) indexFile,
        TapeIndex index, List<Restore.StoredMap> maps, ref long fileCount)
    {
        var created = index.Header.Created.ToDateTimeOffset();
        var sources = maps.Select(m => new BackupSource(index.Header.SourceDescription, m.Volume.FileSystem)).ToList();
        if (sources.Count == 0) sources.Add(new BackupSource(index.Header.SourceDescription, "unknown"));
        var backup = catalog.BeginBackup(sources, startedAt: created);
        try
        {
            catalog.SetFrozenImage(backup.Id, created, "unknown");
            var cataloged = Build(media, archiveFile, index, maps);
            long dataBytes = 0;
            using (var writer = catalog.BeginFiles(backup.Id))
            {
                foreach (var f in cataloged)
                {
                    writer.Add(f);
                    dataBytes += f.Streams.Sum(s => s.SizeBytes);
                }
                writer.Complete();
            }
            fileCount += cataloged.Count;
            catalog.AddTapeFile(new TapeFileRecord(media, archiveFile, TapeFileKind.Archive, records, bytes, backup.Id));
            catalog.AddTapeFile(new TapeFileRecord(media, indexFile.Number, TapeFileKind.Index, indexFile.Records, indexFile.Bytes, backup.Id));
            catalog.SetTotals(backup.Id, dataBytes, cataloged.Count);
            catalog.MarkGood(backup.Id);
            return backup.Id;
        }
        catch (Exception e)
        {
            catalog.MarkFailed(backup.Id, $"catalog rebuild: {e.Message}");
            throw;
        }
    }

    /// <summary>The catalog files of one backup: index members folded into files (alternate data stream members become
    /// streams, hard-link members become links), enriched with the storage map's extents and metadata.</summary>
    static List<CatalogFile> Build(string media, int archiveFile, TapeIndex index, List<Restore.StoredMap> maps)
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
                file = new CatalogFile(entry.Kind switch
                {
                    PaxEntryKind.Directory => CatalogFileKind.Directory,
                    PaxEntryKind.Symlink => CatalogFileKind.Symlink,
                    _ => CatalogFileKind.File,
                }, mapPath)
                {
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

    static async Task<bool> IsIndexAsync(IStreamDevice tape, int fileNumber, CancellationToken ct)
    {
        await tape.LocateAsync(new TapePosition(fileNumber, 0), ct);
        var buffer = new byte[tape.MaxRecordBytes];
        var r = await tape.ReadRecordAsync(buffer, ct);
        return r.Kind == TapeReadKind.Record && buffer.AsSpan(0, Math.Min(r.LengthBytes, buffer.Length)).StartsWith(TapeIndexFormat.Magic);
    }
}
