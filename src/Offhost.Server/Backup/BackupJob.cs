using Offhost.Catalog;
using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Label;
using Offhost.Mapping;

namespace Offhost.Server.Backup;

/// <summary>One thing to back up: a volume image, block device, LUN or mounted directory, whole or as a file set.</summary>
/// <param name="Path">As the user named it.</param>
public sealed record BackupTarget(string Path)
{
    /// <summary>Paths or patterns within the volume (see <see cref="FileSet"/>); null for the whole volume.</summary>
    public IReadOnlyList<string>? Files { get; init; }

    /// <summary>Only partition N (1-based) of a whole-disk source.</summary>
    public int? Partition { get; init; }
}

/// <summary>A device the backup host opened for reading, and what closes it.</summary>
public sealed record OpenedSource(IBlockSource Source, IBlockDevice Device, byte[] Naa, IAsyncDisposable Lifetime);

/// <summary>What <see cref="BackupJob"/> needs: the targets, how to freeze and open them, the tape and the catalog.</summary>
/// <param name="Tape">The labelled tape, positioned at end of data.</param>
/// <param name="TapeLocation">Where the tape is (a .tap path or iscsi:// address without credentials), kept in the catalog for restores.</param>
public sealed record BackupJobRequest(
    IReadOnlyList<BackupTarget> Targets,
    IFrozenSourceProvider Freezer,
    Func<string, CancellationToken, Task<OpenedSource>> OpenSource,
    IStreamDevice Tape, byte[] TapeNaa, VolumeLabel TapeLabel, string TapeLocation,
    Catalog.Catalog Catalog)
{
    public int RecordBytes { get; init; } = 256 * 1024;

    /// <summary>Told, once the sources are open, how many bytes the copy may move at most (for a progress estimate).</summary>
    public Action<long>? EstimatedBytes { get; init; }
}

/// <summary>The outcome of <see cref="BackupJob"/>.</summary>
/// <param name="BackupId">The catalog id.</param>
/// <param name="Unmatched">File-set patterns that selected nothing.</param>
public sealed record BackupJobResult(string BackupId, BackupImageResult Image, long Files, long DataBytes, IReadOnlyList<string> Unmatched,
    DateTimeOffset FrozenAt, string Provider);

/// <summary>
/// A whole backup: frozen images of every target (quiesce, freeze, snapshot), the archive and index on tape through
/// EXTENDED COPY, every file in the catalog, and only then the backup marked good. A target that cannot be frozen
/// (quiesce timeout) fails the backup before anything is recorded; a failure after that marks the backup failed; a
/// process killed mid-way leaves a running backup that the next catalog open marks interrupted. Frozen images are
/// released (thawed) as soon as the data is on tape and on every failure path.
/// </summary>
public static class BackupJob
{
    public static async Task<BackupJobResult> RunAsync(BackupJobRequest request, Action<long>? progressBytes, Action<string>? phase,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Targets.Count == 0) throw new UserFacingException("nothing to back up: name at least one source", 2);
        var frozen = new List<IFrozenSource>();
        var opened = new List<OpenedSource>();
        var catalog = request.Catalog;
        string? backupId = null;
        try
        {
            foreach (var target in request.Targets)
            {
                phase?.Invoke($"Frozen image of {target.Path} (quiesce, freeze, snapshot)");
                frozen.Add(await request.Freezer.FreezeAsync(target.Path, cancellationToken).ConfigureAwait(false));
            }

            var sources = new List<BackupImageSource>();
            var catalogSources = new List<BackupSource>();
            for (int i = 0; i < request.Targets.Count; i++)
            {
                var (target, frozenImage) = (request.Targets[i], frozen[i]);
                var open = await request.OpenSource(frozenImage.ReadPath, cancellationToken).ConfigureAwait(false);
                opened.Add(open);
                var mappers = frozenImage.Mappers ?? VolumeOpener.Open(open.Source, target.Partition);
                sources.Add(new BackupImageSource(open.Source, open.Device, open.Naa)
                {
                    Description = target.Path,
                    Mappers = mappers,
                    Files = target.Files is { } set ? new FileSet(set) : null,
                });
                foreach (var m in mappers)
                    catalogSources.Add(new BackupSource(mappers.Count > 1 ? $"{target.Path} (partition at byte {m.Volume.PartitionOffsetBytes})" : target.Path,
                        m.Volume.FileSystem) { FileSet = target.Files });
            }

            request.EstimatedBytes?.Invoke(sources.Where(s => s.Files is null).Sum(s => s.Source.LengthBytes));
            var uuid = Guid.NewGuid();
            var frozenAt = frozen.Min(f => f.FrozenAt);
            string provider = string.Join("+", frozen.Select(f => f.Provider).Distinct());
            backupId = catalog.BeginBackup(catalogSources, provider, id: Catalog.Catalog.BackupIdFor(frozenAt, uuid)).Id;
            catalog.SetFrozenImage(backupId, frozenAt, provider);
            string media = request.TapeLabel.VolumeId;
            if (catalog.GetMedia(media) is null)
                catalog.AddMedia(new MediaRecord(media, request.TapeLabel.CapacityBytes) { FirstUsedAt = DateTimeOffset.UtcNow, Location = request.TapeLocation });
            else catalog.SetMediaLocation(media, request.TapeLocation);

            phase?.Invoke("Checking the configuration ID");
            foreach (var f in frozen)
                foreach (string remap in await f.CheckBeforeCopyAsync(cancellationToken).ConfigureAwait(false))
                    catalog.RecordRemap(backupId, $"{f.Target}: {remap}");

            using var expired = CancellationTokenSource.CreateLinkedTokenSource([.. frozen.Select(f => f.Expired)]);
            phase?.Invoke("Copying");
            BackupImageResult image;
            try
            {
                image = await BackupImageJob.RunAsync(new BackupImageRequest(sources, request.Tape, request.TapeNaa)
                {
                    RecordBytes = request.RecordBytes,
                    BackupId = uuid,
                    FrozenAt = MapTime.FromDateTimeOffset(frozenAt),
                    ImageExpired = expired.Token,
                    BeforeIndex = async ct =>
                    {
                        foreach (var f in frozen) await f.CheckAfterCopyAsync(ct).ConfigureAwait(false);
                    },
                }, progressBytes, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (expired.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // The copy stopped because an image stopped holding; the source that knows why says so (an agent that was lost).
                foreach (var f in frozen.Where(f => f.Expired.IsCancellationRequested))
                    await f.CheckAfterCopyAsync(cancellationToken).ConfigureAwait(false);
                throw new UserFacingException("the frozen image stopped holding before the copy finished, so the blocks may have changed; no index was written");
            }

            // Data and index are on tape: let the application host go before the catalog work.
            await CloseAsync(opened, frozen).ConfigureAwait(false);

            var unmatched = sources.Where(s => s.Files is not null).SelectMany(s => s.Files!.Unmatched).Distinct().ToList();
            // What the copy left behind (its buffers, the mappers' tables) is garbage now; give it back before the catalog
            // work, which reads the stored maps alongside the index and writes each file as it goes.
            sources.Clear();
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            phase?.Invoke("Cataloguing");
            var maps = image.Maps.Select((m, i) => Restore.StoredMap.ReadEntries(m.Gz, $"storage map of volume {i + 1}")).ToList();
            int archiveFile = checked((int)image.ArchiveFileNumber);
            var (files, dataBytes) = BackupCatalogue.RecordFiles(catalog, backupId, media, archiveFile, image.Index!, maps);
            catalog.AddTapeFile(new TapeFileRecord(media, archiveFile, TapeFileKind.Archive, Records(image.ArchiveBytes, image.RecordBytes), image.ArchiveBytes, backupId));
            catalog.AddTapeFile(new TapeFileRecord(media, checked((int)image.IndexFileNumber), TapeFileKind.Index, Records(image.IndexBytes, image.RecordBytes), image.IndexBytes, backupId));
            catalog.SetTotals(backupId, dataBytes, files);
            catalog.MarkGood(backupId);
            return new BackupJobResult(backupId, image, files, dataBytes, unmatched, frozenAt, provider);
        }
        catch (Exception e) when (backupId is not null)
        {
            bool cancelled = e is OperationCanceledException && cancellationToken.IsCancellationRequested;
            try { catalog.MarkFailed(backupId, cancelled ? "cancelled" : e.Message, cancelled ? BackupStatus.Incomplete : BackupStatus.Failed); }
            catch (InvalidOperationException) { }   // already ended
            throw;
        }
        finally
        {
            await CloseAsync(opened, frozen).ConfigureAwait(false);
        }
    }

    /// <summary>Closes the devices, then releases the frozen images (thaw, drop clones). Idempotent.</summary>
    static async Task CloseAsync(List<OpenedSource> opened, List<IFrozenSource> frozen)
    {
        foreach (var o in opened) await o.Lifetime.DisposeAsync().ConfigureAwait(false);
        opened.Clear();
        List<Exception>? errors = null;
        foreach (var f in frozen)
        {
            try { await f.DisposeAsync().ConfigureAwait(false); }
            catch (Exception e) { (errors ??= []).Add(e); }
        }
        frozen.Clear();
        if (errors is not null) throw new AggregateException("releasing the frozen images failed", errors);
    }

    static long Records(long bytes, int recordBytes) => recordBytes <= 0 ? 0 : (bytes + recordBytes - 1) / recordBytes;
}
