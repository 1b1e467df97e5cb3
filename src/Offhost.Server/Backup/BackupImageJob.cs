using System.IO.Compression;
using System.Text.Json;
using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.DataMover;
using Offhost.Formats.Tape.Index;
using Offhost.Formats.Tape.Pax;
using Offhost.Mapping;
using Offhost.Scsi.ExtendedCopy;
using Offhost.Server.Planning;

namespace Offhost.Server.Backup;

/// <summary>One source of a backup: a frozen image (volume, whole disk or LUN) as the backup host reaches it.</summary>
/// <param name="Source">The block source the storage map is read from (the frozen image).</param>
/// <param name="Device">The same device opened read-only for the copy manager.</param>
/// <param name="Naa">Its NAA designator.</param>
public sealed record BackupImageSource(IBlockSource Source, IBlockDevice Device, byte[] Naa)
{
    /// <summary>Back up only partition N (1-based) of a whole-disk source; null for every file system on it.</summary>
    public int? Partition { get; init; }

    /// <summary>The source as the user named it (catalog and tape index).</summary>
    public string Description { get; init; } = "";

    /// <summary>Mappers that replace mapping <see cref="Source"/> here, e.g. a storage map received from an agent; null maps
    /// the source's own on-disk structures.</summary>
    public IReadOnlyList<IVolumeMapper>? Mappers { get; init; }

    /// <summary>Only these files (and the directories above them); null backs up every file and the whole volume.</summary>
    public FileSet? Files { get; init; }
}

/// <summary>What to back up and where to.</summary>
/// <param name="Sources">The sources, in order; their volumes are numbered 1… across all of them.</param>
/// <param name="Tape">The stream device, positioned where the backup's first tape file goes (end of data).</param>
/// <param name="TapeNaa">Its NAA designator.</param>
public sealed record BackupImageRequest(IReadOnlyList<BackupImageSource> Sources, IStreamDevice Tape, byte[] TapeNaa)
{
    /// <summary>One source, all of its file systems.</summary>
    public BackupImageRequest(IBlockSource source, IBlockDevice sourceDevice, byte[] sourceNaa, IStreamDevice tape, byte[] tapeNaa, string description = "")
        : this([new BackupImageSource(source, sourceDevice, sourceNaa) { Description = description }], tape, tapeNaa) { }

    public int RecordBytes { get; init; } = 256 * 1024;
    public Guid BackupId { get; init; } = Guid.NewGuid();
    public MapTime FrozenAt { get; init; } = MapTime.FromDateTimeOffset(DateTimeOffset.UtcNow);

    /// <summary>Fires when the copy must stop because the frozen image no longer holds (a freeze bound passed);
    /// the job then fails instead of copying blocks that may be changing.</summary>
    public CancellationToken ImageExpired { get; init; }

    /// <summary>Runs after the last archive block and before the index: a check that the source held still during the
    /// copy (an agent's configuration ID). Throwing leaves the tape without an index.</summary>
    public Func<CancellationToken, Task>? BeforeIndex { get; init; }

    /// <summary>Called for every member once all of its streams are on their way to the tape with their checksums, in
    /// archive order, on the copy's thread (so it must be quick): the member's index entry and the storage-map entry it
    /// was planned from. Lets the catalog be written while the copy runs.</summary>
    public Action<TapeIndexEntry, MapEntry>? MemberWritten { get; init; }

    /// <summary>Description of the backup's sources, joined (tape index header).</summary>
    public string SourceDescription => string.Join(", ", Sources.Select(s => s.Description).Where(d => d.Length > 0));
}

/// <summary>The outcome of a backup image: where it is on the tape and what it holds.</summary>
public sealed record BackupImageResult(Guid BackupId, long ArchiveFileNumber, long IndexFileNumber, long ArchiveBytes, long Files,
    long BytesFromDevice, long InlineBytes, int ParameterLists, IReadOnlyList<MapEntry> Unmappable, IReadOnlyList<VolumeInfo> Volumes)
{
    public long IndexBytes { get; init; }
    public int RecordBytes { get; init; }
}

/// <summary>
/// Backs up every file system of a source to one tape: tape file N is the pax archive, N+1 its index
/// (docs/formats/tape-format.md). The archive is produced entirely by EXTENDED COPY parameter lists run by the
/// copy manager: file bodies move block → stream from the source device; headers and resident data are inline
/// data. Each volume's storage map travels in the archive too, as <c>.offhost/volume-N.map.jsonl.gz</c>, so a tape
/// alone is enough to restore. Checksums are computed from the bytes written (<see cref="ChecksumTap"/>).
/// A failure leaves no index on the tape, so a truncated archive never looks complete.
/// </summary>
public static class BackupImageJob
{
    const string Requester = "offhost-server";

    /// <summary>The in-process copy manager accepts lists with up to 32 MiB of inline data (archive headers and resident
    /// data), so a list covers many files and the read-ahead pipeline stays full.</summary>
    static readonly CopyManagerOptions CopyManagerForImages = new()
    {
        OperatingParameters = Scsi.ExtendedCopy.OperatingParameters.Default with { MaxInlineDataLengthBytes = 32u << 20, MaxSegmentDescriptorCount = 4096 },
        FlushAtListEnd = false,   // the tape is flushed after the archive and after the index, not after every list
    };

    public static async Task<BackupImageResult> RunAsync(BackupImageRequest request, Action<long>? progressBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Sources.Count == 0) throw new ArgumentException("a backup needs at least one source", nameof(request));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, request.ImageExpired);
        var ct = linked.Token;
        var volumes = request.Sources
            .SelectMany(s => (s.Mappers ?? VolumeOpener.Open(s.Source, s.Partition)).Select(m => (Mapper: m, Source: s)))
            .ToList();
        var tap = new ChecksumTap(request.Tape);
        var registry = new DeviceRegistry();
        foreach (var s in request.Sources.DistinctBy(s => Convert.ToHexString(s.Naa)))
            registry.Register(Requester, s.Naa, s.Device);
        registry.Register(Requester, request.TapeNaa, tap);
        var manager = new CopyManager(registry, Requester, CopyManagerForImages);

        long archiveFile = request.Tape.Position.FileNumber;
        var indexEntries = new List<TapeIndexEntry>();
        var written = request.MemberWritten is { } report ? new MemberCompletion(report) : null;
        var unmappable = new List<MapEntry>();
        long files = 0, deviceBytes = 0, inlineBytes = 0, archiveBytes = 0;
        int lists = 0;
        long archiveOffset = 0;

        for (int v = 0; v < volumes.Count; v++)
        {
            var (mapper, source) = volumes[v];
            int volumeIndex = v + 1;
            bool last = volumeIndex == volumes.Count;
            string prefix = volumes.Count > 1 ? $"vol{volumeIndex}/" : "";
            var builder = new ParameterListBuilder(
                new CopyTargets(source.Naa, source.Device.BlockSizeBytes, request.TapeNaa, request.RecordBytes),
                manager.OperatingParameters);
            var planner = new ArchivePlanner(mapper.Volume, source.Source, new ArchivePlanOptions { PathPrefix = prefix });
            var mapJson = new MemoryStream();
            var gzip = new GZipStream(mapJson, CompressionLevel.Fastest, leaveOpen: true);
            var jsonWriter = new Utf8JsonWriter(gzip, new JsonWriterOptions { SkipValidation = true });
            StorageMapJson.WriteVolume(jsonWriter, mapper.Volume);
            EndLine(jsonWriter, gzip);

            IEnumerable<CopyOp> Ops()
            {
                var entries = source.Files is { } fileSet ? fileSet.Select(mapper.Entries(ct)) : mapper.Entries(ct);
                foreach (var member in planner.Plan(Observe(entries), ct))
                {
                    var entry = Register(member, archiveOffset);
                    if (entry is not null) indexEntries.Add(entry);
                    if (member.Pax.Kind == PaxEntryKind.File) files++;
                    foreach (var op in member.Ops) yield return Count(op);
                }
                if (source.Files is null)
                {
                    // A whole volume: what no file member holds travels in the remainder, so the tape alone restores the volume.
                    var allocated = AllocatedRanges(mapper, ct);
                    if (allocated is not null)
                    {
                        AllocationRecord.Write(jsonWriter, allocated);
                        EndLine(jsonWriter, gzip);
                    }
                    var remainder = planner.PlanVolumeRemainder($".offhost/volume-{volumeIndex}.remainder", request.FrozenAt, allocated);
                    indexEntries.Add(Register(remainder, archiveOffset)!);
                    foreach (var op in remainder.Ops) yield return Count(op);
                }

                jsonWriter.Flush();
                gzip.Dispose();
                var mapMember = planner.PlanInlineFile($".offhost/volume-{volumeIndex}.map.jsonl.gz", mapJson.ToArray(), request.FrozenAt);
                indexEntries.Add(Register(mapMember, archiveOffset)!);
                foreach (var op in mapMember.Ops) yield return Count(op);
                if (last) yield return Count(planner.EndOfArchive());
            }

            // The stored map holds what the archive holds: for a file set, only the selected entries.
            IEnumerable<MapEntry> Observe(IEnumerable<MapEntry> entries)
            {
                foreach (var e in entries)
                {
                    if (e.Kind == MapEntryKind.Unmappable) unmappable.Add(e);
                    StorageMapJson.WriteEntry(jsonWriter, e);
                    EndLine(jsonWriter, gzip);
                    yield return e;
                }
            }

            CopyOp Count(CopyOp op)
            {
                if (op is InlineOp) inlineBytes += op.StreamBytes; else deviceBytes += op.StreamBytes;
                return op;
            }

            foreach (var list in builder.Build(Ops()))
            {
                ct.ThrowIfCancellationRequested();
                CopyOutcome outcome;
                try
                {
                    outcome = await manager.ExecuteAsync(list, ct);
                }
                catch (CopyAbortedException e) when (e.EndOfMedium)
                {
                    throw new EndOfMediumException(
                        $"the tape is full: {archiveBytes + e.TransferredBytes} bytes of the archive were written to tape file {archiveFile} before the end of medium; " +
                        $"no index was written, so the tape holds no complete backup {request.BackupId}. Use a larger or another tape. ({e.Message})");
                }
                catch (OperationCanceledException) when (request.ImageExpired.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new UserFacingException(
                        "the frozen image stopped holding before the copy finished (the file system was thawed at the freeze bound, or the agent holding it was lost), " +
                        "so the blocks may have changed; no index was written. Use a snapshot provider (reflink) or a longer --max-freeze.");
                }
                lists++;
                archiveBytes += outcome.TransferredBytes;
                progressBytes?.Invoke(outcome.TransferredBytes);
            }
            archiveOffset += planner.ArchiveOffsetBytes;
        }

        if (!tap.AllComplete) throw new InvalidOperationException("the archive ended before every planned stream was written");
        if (request.BeforeIndex is { } check) await check(ct);
        await request.Tape.WriteFilemarksAsync(1, ct);
        // The archive is on the medium before its index is written: a tape whose index made it after a crash never
        // describes an archive that did not (a catalog rebuilt from the tape trusts an index it finds).
        await request.Tape.FlushAsync(ct);

        long indexFile = request.Tape.Position.FileNumber;
        var header = new TapeIndexHeader(request.BackupId, request.SourceDescription, request.FrozenAt, archiveFile);
        var index = TapeIndexEncoder.Encode(header, indexEntries);
        for (int at = 0; at < index.Length; at += request.RecordBytes)
            await request.Tape.WriteRecordAsync(index.AsMemory(at, Math.Min(request.RecordBytes, index.Length - at)), ct);
        await request.Tape.WriteFilemarksAsync(1, ct);
        await request.Tape.FlushAsync(ct);

        return new BackupImageResult(request.BackupId, archiveFile, indexFile, archiveBytes, files, deviceBytes, inlineBytes, lists,
            unmappable, volumes.Select(m => m.Mapper.Volume).ToList())
        {
            IndexBytes = index.Length,
            RecordBytes = request.RecordBytes,
        };

        TapeIndexEntry? Register(PlannedMember member, long volumeArchiveOffset)
        {
            var streams = new TapeIndexStream[member.Streams.Count];
            var tracked = written?.Begin(member.Source, streams.Length);
            for (int i = 0; i < member.Streams.Count; i++)
            {
                var s = member.Streams[i];
                int slot = i;
                streams[slot] = new TapeIndexStream(s.Name, s.SizeBytes, volumeArchiveOffset + s.MemberOffsetBytes, volumeArchiveOffset + s.DataOffsetBytes, 0)
                {
                    Storage = s.InExtendedHeader ? TapeStreamStorage.ExtendedHeader : TapeStreamStorage.MemberData,
                    Sparse = s.Sparse,
                };
                var shifted = s with { Ranges = s.Ranges.Select(r => r with { ArchiveOffsetBytes = r.ArchiveOffsetBytes + volumeArchiveOffset }).ToArray() };
                tap.Expect(shifted, hash =>
                {
                    streams[slot] = streams[slot] with { XxHash64 = hash };
                    written?.StreamDone(tracked!);
                });
            }
            var indexEntry = new TapeIndexEntry(member.Pax.Path, member.Pax.Kind, volumeArchiveOffset + member.MemberOffsetBytes)
            {
                SizeBytes = member.Pax.SizeBytes,
                Mode = member.Pax.Mode,
                Uid = member.Pax.Uid,
                Gid = member.Pax.Gid,
                Modified = member.Pax.Modified,
                LinkTarget = member.Pax.LinkTarget,
                Device = member.Pax.Device,
                Streams = streams,
            };
            written?.Registered(tracked!, indexEntry);
            return indexEntry;
        }
    }

    /// <summary>Reports members in archive order as their last stream's checksum arrives (<see cref="BackupImageRequest.MemberWritten"/>).
    /// Checksums arrive from the tap while the copy runs; members are registered between parameter lists.</summary>
    sealed class MemberCompletion(Action<TapeIndexEntry, MapEntry> report)
    {
        public sealed class Tracked(MapEntry source, int streams)
        {
            public MapEntry Source { get; } = source;
            public int PendingStreams { get; set; } = streams;
            public TapeIndexEntry? Entry { get; set; }
        }

        readonly Lock gate = new();
        readonly Queue<Tracked> order = new();

        public Tracked Begin(MapEntry source, int streams)
        {
            var t = new Tracked(source, streams);
            lock (gate) order.Enqueue(t);
            return t;
        }

        public void StreamDone(Tracked t)
        {
            lock (gate)
            {
                t.PendingStreams--;
                ReportCompleted();
            }
        }

        public void Registered(Tracked t, TapeIndexEntry entry)
        {
            lock (gate)
            {
                t.Entry = entry;
                ReportCompleted();
            }
        }

        /// <summary>Reports the completed members at the head of the order; called under the lock, so they go out in
        /// order whichever thread completes them.</summary>
        void ReportCompleted()
        {
            while (order.TryPeek(out var next) && next.PendingStreams == 0 && next.Entry is { } entry)
            {
                order.Dequeue();
                report(entry, next.Source);
            }
        }
    }

    /// <summary>The volume's allocated ranges when its mapper can read them; null (keep every block) when it cannot.</summary>
    static List<(long StartBytes, long LengthBytes)>? AllocatedRanges(IVolumeMapper mapper, CancellationToken cancellationToken)
    {
        if (mapper is not IAllocationMap map) return null;
        try
        {
            return map.AllocatedRanges(cancellationToken).ToList();
        }
        catch (Core.Errors.CorruptStructureException)
        {
            return null;   // a damaged bitmap costs space, never data: every block of the volume is kept
        }
    }

    static void EndLine(Utf8JsonWriter writer, Stream output)
    {
        writer.Flush();
        output.WriteByte((byte)'\n');
        writer.Reset(output);
    }
}
