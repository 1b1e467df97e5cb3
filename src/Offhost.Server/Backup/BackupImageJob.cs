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

/// <summary>What to back up and where to.</summary>
/// <param name="Source">The block source the storage map is read from (the frozen image).</param>
/// <param name="SourceDevice">The same device opened read-only for the copy manager.</param>
/// <param name="SourceNaa">Its NAA designator.</param>
/// <param name="Tape">The stream device, positioned where the backup's first tape file goes (end of data).</param>
/// <param name="TapeNaa">Its NAA designator.</param>
public sealed record BackupImageRequest(IBlockSource Source, IBlockDevice SourceDevice, byte[] SourceNaa, IStreamDevice Tape, byte[] TapeNaa)
{
    public int? Partition { get; init; }
    public int RecordBytes { get; init; } = 256 * 1024;
    public Guid BackupId { get; init; } = Guid.NewGuid();
    public string SourceDescription { get; init; } = "";
    public MapTime FrozenAt { get; init; } = MapTime.FromDateTimeOffset(DateTimeOffset.UtcNow);
}

/// <summary>The outcome of a backup image: where it is on the tape and what it holds.</summary>
public sealed record BackupImageResult(Guid BackupId, long ArchiveFileNumber, long IndexFileNumber, long ArchiveBytes, long Files,
    long BytesFromDevice, long InlineBytes, int ParameterLists, IReadOnlyList<MapEntry> Unmappable, IReadOnlyList<VolumeInfo> Volumes);

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
        OperatingParameters = Scsi.ExtendedCopy.OperatingParameters.Default with { MaxInlineDataLengthBytes = 32u << 20 },
    };

    public static async Task<BackupImageResult> RunAsync(BackupImageRequest request, Action<long>? progressBytes, CancellationToken cancellationToken)
    {
        var mappers = VolumeOpener.Open(request.Source, request.Partition);
        var tap = new ChecksumTap(request.Tape);
        var registry = new DeviceRegistry();
        registry.Register(Requester, request.SourceNaa, request.SourceDevice);
        registry.Register(Requester, request.TapeNaa, tap);
        var manager = new CopyManager(registry, Requester, CopyManagerForImages);
        var builder = new ParameterListBuilder(
            new CopyTargets(request.SourceNaa, request.SourceDevice.BlockSizeBytes, request.TapeNaa, request.RecordBytes),
            manager.OperatingParameters);

        long archiveFile = request.Tape.Position.FileNumber;
        var indexEntries = new List<TapeIndexEntry>();
        var unmappable = new List<MapEntry>();
        long files = 0, deviceBytes = 0, inlineBytes = 0, archiveBytes = 0;
        int lists = 0;
        long archiveOffset = 0;

        foreach (var (mapper, volumeIndex) in mappers.Select((m, i) => (m, i + 1)))
        {
            string prefix = mappers.Count > 1 ? $"vol{volumeIndex}/" : "";
            var planner = new ArchivePlanner(mapper.Volume, request.Source, new ArchivePlanOptions { PathPrefix = prefix });
            var mapJson = new MemoryStream();
            var gzip = new GZipStream(mapJson, CompressionLevel.Fastest, leaveOpen: true);
            var jsonWriter = new Utf8JsonWriter(gzip, new JsonWriterOptions { SkipValidation = true });
            StorageMapJson.WriteVolume(jsonWriter, mapper.Volume);
            EndLine(jsonWriter, gzip);

            IEnumerable<CopyOp> Ops()
            {
                foreach (var member in planner.Plan(Observe(mapper.Entries(cancellationToken)), cancellationToken))
                {
                    var entry = Register(member, archiveOffset);
                    if (entry is not null) indexEntries.Add(entry);
                    if (member.Pax.Kind == PaxEntryKind.File) files++;
                    foreach (var op in member.Ops) yield return Count(op);
                }
                var allocated = AllocatedRanges(mapper, cancellationToken);
                if (allocated is not null)
                {
                    AllocationRecord.Write(jsonWriter, allocated);
                    EndLine(jsonWriter, gzip);
                }
                var remainder = planner.PlanVolumeRemainder($".offhost/volume-{volumeIndex}.remainder", request.FrozenAt, allocated);
                indexEntries.Add(Register(remainder, archiveOffset)!);
                foreach (var op in remainder.Ops) yield return Count(op);

                jsonWriter.Flush();
                gzip.Dispose();
                var mapMember = planner.PlanInlineFile($".offhost/volume-{volumeIndex}.map.jsonl.gz", mapJson.ToArray(), request.FrozenAt);
                indexEntries.Add(Register(mapMember, archiveOffset)!);
                foreach (var op in mapMember.Ops) yield return Count(op);
                if (volumeIndex == mappers.Count) yield return Count(planner.EndOfArchive());
            }

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
                cancellationToken.ThrowIfCancellationRequested();
                CopyOutcome outcome;
                try
                {
                    outcome = await manager.ExecuteAsync(list, cancellationToken);
                }
                catch (CopyAbortedException e) when (e.EndOfMedium)
                {
                    throw new EndOfMediumException(
                        $"the tape is full: {archiveBytes + e.TransferredBytes} bytes of the archive were written to tape file {archiveFile} before the end of medium; " +
                        $"no index was written, so the tape holds no complete backup {request.BackupId}. Use a larger or another tape. ({e.Message})");
                }
                lists++;
                archiveBytes += outcome.TransferredBytes;
                progressBytes?.Invoke(outcome.TransferredBytes);
            }
            archiveOffset += planner.ArchiveOffsetBytes;
        }

        if (!tap.AllComplete) throw new InvalidOperationException("the archive ended before every planned stream was written");
        await request.Tape.WriteFilemarksAsync(1, cancellationToken);

        long indexFile = request.Tape.Position.FileNumber;
        var index = TapeIndexEncoder.Encode(new TapeIndexHeader(request.BackupId, request.SourceDescription, request.FrozenAt, archiveFile), indexEntries);
        for (int at = 0; at < index.Length; at += request.RecordBytes)
            await request.Tape.WriteRecordAsync(index.AsMemory(at, Math.Min(request.RecordBytes, index.Length - at)), cancellationToken);
        await request.Tape.WriteFilemarksAsync(1, cancellationToken);
        await request.Tape.FlushAsync(cancellationToken);

        return new BackupImageResult(request.BackupId, archiveFile, indexFile, archiveBytes, files, deviceBytes, inlineBytes, lists,
            unmappable, mappers.Select(m => m.Volume).ToList());

        TapeIndexEntry? Register(PlannedMember member, long volumeArchiveOffset)
        {
            var streams = new TapeIndexStream[member.Streams.Count];
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
                tap.Expect(shifted, hash => streams[slot] = streams[slot] with { XxHash64 = hash });
            }
            return new TapeIndexEntry(member.Pax.Path, member.Pax.Kind, volumeArchiveOffset + member.MemberOffsetBytes)
            {
                SizeBytes = member.Pax.SizeBytes,
                Mode = member.Pax.Mode,
                Uid = member.Pax.Uid,
                Gid = member.Pax.Gid,
                Modified = member.Pax.Modified,
                LinkTarget = member.Pax.LinkTarget,
                Streams = streams,
            };
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
