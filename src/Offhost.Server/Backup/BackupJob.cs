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
            using var copyCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            int archiveFile = checked((int)request.Tape.Position.FileNumber);
            await using var catalogue = new LiveCatalogue(new BackupCatalogue.Cataloguer(catalog, backupId, media, archiveFile, catalogSources.Count), copyCancel);
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
                    MemberWritten = catalogue.Add,
                }, progressBytes, copyCancel.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (catalogue.Failed is { } failure && !cancellationToken.IsCancellationRequested)
            {
                throw new InvalidOperationException($"writing the catalog failed: {failure.Message}", failure);
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
            phase?.Invoke("Cataloguing");
            if (image.ArchiveFileNumber != archiveFile) throw new InvalidOperationException($"the archive went to tape file {image.ArchiveFileNumber}, not {archiveFile}");
            var (files, dataBytes) = await catalogue.CompleteAsync().ConfigureAwait(false);
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

    /// <summary>
    /// Writes the catalog on a thread of its own while the copy runs, from the members the copy reports as written (in
    /// archive order), so that cataloguing a volume of many files costs no time after the copy. Rows are committed
    /// whenever no member has come for a moment, so the catalog's write lock is not held while the copy works on a large
    /// file. A failure here cancels the copy (<see cref="Failed"/> says why). The backup is marked good only by the job,
    /// after data and index are on tape.
    /// </summary>
    sealed class LiveCatalogue : IAsyncDisposable
    {
        static readonly TimeSpan IdleCommit = TimeSpan.FromMilliseconds(250);

        readonly BackupCatalogue.Cataloguer cataloguer;
        readonly CancellationTokenSource copy;
        readonly System.Threading.Channels.Channel<(Formats.Tape.Index.TapeIndexEntry Entry, MapEntry Source)> queue =
            System.Threading.Channels.Channel.CreateUnbounded<(Formats.Tape.Index.TapeIndexEntry, MapEntry)>(new() { SingleReader = true, SingleWriter = true });
        readonly Task consumer;

        public LiveCatalogue(BackupCatalogue.Cataloguer cataloguer, CancellationTokenSource copy)
        {
            this.cataloguer = cataloguer;
            this.copy = copy;
            consumer = Task.Run(ConsumeAsync, CancellationToken.None);
        }

        /// <summary>The exception that stopped cataloguing, if it failed.</summary>
        public Exception? Failed { get; private set; }

        public void Add(Formats.Tape.Index.TapeIndexEntry entry, MapEntry source) => queue.Writer.TryWrite((entry, source));

        async Task ConsumeAsync()
        {
            try
            {
                var reader = queue.Reader;
                while (true)
                {
                    while (reader.TryRead(out var item)) cataloguer.Add(item.Entry, item.Source);
                    bool more;
                    using (var idle = new CancellationTokenSource(IdleCommit))
                    {
                        try { more = await reader.WaitToReadAsync(idle.Token).ConfigureAwait(false); }
                        catch (OperationCanceledException) when (idle.IsCancellationRequested)
                        {
                            cataloguer.Commit();
                            more = await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false);
                        }
                    }
                    if (!more) return;
                }
            }
            catch (Exception e)
            {
                Failed = e;
                await copy.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }

        /// <summary>After the copy: catalogues what is still queued and completes the files; returns their count and data bytes.</summary>
        public async Task<(long Files, long DataBytes)> CompleteAsync()
        {
            queue.Writer.TryComplete();
            await consumer.ConfigureAwait(false);
            return cataloguer.Complete();
        }

        /// <summary>Stops cataloguing; rows not committed are rolled back.</summary>
        public async ValueTask DisposeAsync()
        {
            queue.Writer.TryComplete();
            try { await consumer.ConfigureAwait(false); }
            catch (Exception) { /* reported through Failed and the cancelled copy */ }
            cataloguer.Dispose();
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
