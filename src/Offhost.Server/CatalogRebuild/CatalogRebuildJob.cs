using Offhost.Catalog;
using Offhost.Core.Devices;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Index;
using Offhost.Formats.Tape.Label;
using Offhost.Formats.Tape.Pax;
using Offhost.Io.Tape;
using Offhost.Server.Backup;
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
        var sources = maps.Select((m, i) => new BackupSource(index.Header.SourceDescription, m.Volume.FileSystem)
        {
            FileSet = BackupCatalogue.HasRemainder(index, i + 1, maps.Count) ? null : [],
        }).ToList();
        if (sources.Count == 0) sources.Add(new BackupSource(index.Header.SourceDescription, "unknown"));
        string? id = Catalog.Catalog.BackupIdFor(created, index.Header.BackupId);
        if (catalog.GetBackup(id) is not null) id = null;   // the same backup, catalogued from another copy of the tape
        var backup = catalog.BeginBackup(sources, startedAt: created, id: id);
        try
        {
            catalog.SetFrozenImage(backup.Id, created, "unknown");
            var (files, dataBytes) = BackupCatalogue.RecordFiles(catalog, backup.Id, media, archiveFile, index, maps);
            fileCount += files;
            catalog.AddTapeFile(new TapeFileRecord(media, archiveFile, TapeFileKind.Archive, records, bytes, backup.Id));
            catalog.AddTapeFile(new TapeFileRecord(media, indexFile.Number, TapeFileKind.Index, indexFile.Records, indexFile.Bytes, backup.Id));
            catalog.SetTotals(backup.Id, dataBytes, files);
            catalog.MarkGood(backup.Id);
            return backup.Id;
        }
        catch (Exception e)
        {
            catalog.MarkFailed(backup.Id, $"catalog rebuild: {e.Message}");
            throw;
        }
    }

    static async Task<bool> IsIndexAsync(IStreamDevice tape, int fileNumber, CancellationToken ct)
    {
        await tape.LocateAsync(new TapePosition(fileNumber, 0), ct);
        var buffer = new byte[tape.MaxRecordBytes];
        var r = await tape.ReadRecordAsync(buffer, ct);
        return r.Kind == TapeReadKind.Record && buffer.AsSpan(0, Math.Min(r.LengthBytes, buffer.Length)).StartsWith(TapeIndexFormat.Magic);
    }
}
