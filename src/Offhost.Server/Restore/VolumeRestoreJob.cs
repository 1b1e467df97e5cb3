using System.IO.Compression;
using System.IO.Hashing;
using Offhost.Core.Devices;
using Offhost.Core.Mapping;
using Offhost.DataMover;
using Offhost.Formats.Tape.Index;

namespace Offhost.Server.Restore;

/// <summary>What to restore: a backup (its archive tape file) onto a block device.</summary>
public sealed record VolumeRestoreRequest(IStreamDevice Tape, byte[] TapeNaa, long ArchiveFileNumber, IBlockDevice Target, byte[] TargetNaa)
{
    /// <summary>Which volume of a multi-volume backup (1-based).</summary>
    public int VolumeIndex { get; init; } = 1;
    /// <summary>Write blocks at their original device addresses (restoring a whole disk); otherwise the volume lands at block 0.</summary>
    public bool KeepOffsets { get; init; }
    /// <summary>Restore only these files' blocks in place (paths as in the storage map); null for the whole volume.</summary>
    public IReadOnlySet<string>? Paths { get; init; }
    /// <summary>The backup's index and stored maps when the caller already read them (<see cref="VolumeRestoreJob.ReadAsync"/>);
    /// null reads them from the tape.</summary>
    public (TapeIndex Index, IReadOnlyList<StoredMap> Maps)? Read { get; init; }
}

/// <summary>A storage map as stored in a backup: the volume, its entries and, when recorded, its allocated ranges.</summary>
public sealed record StoredMap(VolumeInfo Volume, IReadOnlyList<MapEntry> Entries, IReadOnlyList<(long StartBytes, long LengthBytes)>? Allocated)
{
    /// <summary>Decodes a stored map member (gzip-compressed JSON Lines: the volume record, entries, the allocation record).</summary>
    /// <param name="name">The member, for messages.</param>
    public static StoredMap Decode(byte[] gz, string name)
    {
        VolumeInfo? volume = null;
        var entries = new List<MapEntry>();
        List<(long, long)>? allocated = null;
        foreach (var line in Lines(gz, name))
        {
            if (volume is null) volume = StorageMapJson.ReadVolume(line.Span);
            else if (Backup.AllocationRecord.TryRead(line) is { } ranges) allocated = ranges;
            else entries.Add(StorageMapJson.ReadEntry(line.Span));
        }
        return new StoredMap(volume ?? throw new InvalidDataException($"{name}: empty storage map"), entries, allocated);
    }

    /// <summary>The non-empty lines of a gzip-compressed JSON Lines member, as UTF-8 (each valid until the next is read).</summary>
    static IEnumerable<ReadOnlyMemory<byte>> Lines(byte[] gz, string name)
    {
        using var gzip = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        var buffer = new byte[64 * 1024];
        int start = 0, end = 0;
        while (true)
        {
            int nl = Array.IndexOf(buffer, (byte)'\n', start, end - start);
            if (nl >= 0)
            {
                if (nl > start) yield return buffer.AsMemory(start, nl - start);
                start = nl + 1;
                continue;
            }
            if (start > 0)
            {
                Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                end -= start;
                start = 0;
            }
            if (end == buffer.Length)
            {
                if (buffer.Length >= MaxLineBytes) throw new InvalidDataException($"{name}: a line longer than {MaxLineBytes} bytes");
                Array.Resize(ref buffer, buffer.Length * 2);
            }
            int n;
            try { n = gzip.Read(buffer, end, buffer.Length - end); }
            catch (InvalidDataException e) { throw new InvalidDataException($"{name}: {e.Message}", e); }
            if (n == 0)
            {
                if (end > start) yield return buffer.AsMemory(start, end - start);
                yield break;
            }
            end += n;
        }
    }

    /// <summary>Longest line accepted: one map entry of a file with a very fragmented stream.</summary>
    const int MaxLineBytes = 256 << 20;
}

public sealed record VolumeRestoreResult(VolumeInfo Volume, long BytesWritten, int Pieces, int ParameterLists);

/// <summary>
/// Restores a volume from a backup image through EXTENDED COPY stream → block segments, in one pass over the
/// archive: every block of the volume comes back from the file member or the remainder member that holds it.
/// The plan comes from the storage map stored in the archive and is checked against the tape index first.
/// </summary>
public static class VolumeRestoreJob
{
    const string Requester = "offhost-restore";
    const long MaxIndexBytes = 1L << 30;
    const long MaxMapBytes = 1L << 30;   // a gzip-compressed map of tens of millions of files; read into one array

    public static async Task<VolumeRestoreResult> RunAsync(VolumeRestoreRequest request, Action<long>? progressBytes, CancellationToken cancellationToken)
    {
        var (index, maps) = request.Read ?? await ReadAsync(request.Tape, request.ArchiveFileNumber, cancellationToken);
        // Reading the index and decoding the maps leave several times their own size in garbage, and planning adds as
        // much again: give the first back before planning (a 34,000-file volume peaked 20 MiB lower).
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (request.VolumeIndex < 1 || request.VolumeIndex > maps.Count)
            throw new Core.Errors.UserFacingException($"the backup holds {maps.Count} volume(s); there is no volume {request.VolumeIndex}", 2);

        if (!Backup.BackupCatalogue.HasRemainder(index, request.VolumeIndex, maps.Count))
            throw new Core.Errors.UserFacingException(
                $"volume {request.VolumeIndex} of this backup holds a file set, not the whole volume (no .offhost/volume-{request.VolumeIndex}.remainder member); restore its files to a directory instead", 2);
        var plans = VolumeRestorePlanner.Plan(maps, index, index.Header.Created);
        var (volume, allPieces) = plans[request.VolumeIndex - 1];
        var pieces = request.Paths is null ? allPieces : PiecesOf(request.Paths, maps[request.VolumeIndex - 1], index, plans, request.VolumeIndex);

        int bs = request.Target.BlockSizeBytes;
        if (bs != volume.BlockSizeBytes)
            throw new Core.Errors.UserFacingException($"the target's block size is {bs} bytes; the volume was backed up in {volume.BlockSizeBytes}-byte blocks", 2);
        long shift = request.KeepOffsets ? 0 : -volume.PartitionOffsetBytes / bs;
        long needBytes = (request.KeepOffsets ? volume.PartitionOffsetBytes : 0) + Planning.ArchivePlanner.RemainderSizeBytes(volume);
        if (request.Target.BlockCount * bs < needBytes)
            throw new Core.Errors.UserFacingException($"the target holds {request.Target.BlockCount * bs} bytes; the volume needs {needBytes}", 2);

        int recordBytes = await ProbeRecordBytesAsync(request.Tape, request.ArchiveFileNumber, cancellationToken);
        var registry = new DeviceRegistry();
        registry.Register(Requester, request.TapeNaa, request.Tape);
        registry.Register(Requester, request.TargetNaa, request.Target);
        var manager = new CopyManager(registry, Requester, new CopyManagerOptions { FlushAtListEnd = false });   // one flush at the end
        var targets = new RestoreTargets(request.TapeNaa, request.TargetNaa, bs, recordBytes, shift);

        await request.Tape.LocateAsync(new TapePosition(request.ArchiveFileNumber, 0), cancellationToken);
        long written = 0;
        int lists = 0;
        foreach (var list in VolumeRestorePlanner.Lists(pieces, targets, manager.OperatingParameters))
        {
            var outcome = await manager.ExecuteAsync(list, cancellationToken);
            lists++;
            written += outcome.TransferredBytes;
            progressBytes?.Invoke(outcome.TransferredBytes);
        }
        await request.Target.FlushAsync(cancellationToken);
        return new VolumeRestoreResult(volume, written, pieces.Count, lists);
    }

    static List<RestorePiece> PiecesOf(IReadOnlySet<string> paths, StoredMap map, TapeIndex index,
        IReadOnlyList<(VolumeInfo Volume, List<RestorePiece> Pieces)> plans, int volumeIndex)
    {
        // A file's blocks are those of its verbatim data extents; resident or compressed data cannot go back in place.
        var wanted = new List<(long Start, long End)>();
        foreach (var e in map.Entries.Where(e => paths.Contains(e.Path)))
        {
            foreach (var s in e.Streams)
            {
                if (s.IsResident || s.Compressed)
                    throw new Core.Errors.UserFacingException($"{e.Path}: stream '{s.Name}' is {(s.IsResident ? "resident in the MFT" : "compressed")}; restore it to a directory instead", 2);
                foreach (var x in s.Extents.Where(x => x.Kind == ExtentKind.Data))
                    wanted.Add((x.Lba * map.Volume.BlockSizeBytes, (x.Lba + x.Blocks) * map.Volume.BlockSizeBytes));
            }
        }
        var missing = paths.Where(p => map.Entries.All(e => e.Path != p)).ToList();
        if (missing.Count > 0) throw new Core.Errors.UserFacingException($"not in the backup: {string.Join(", ", missing)}", 2);
        var pieces = new List<RestorePiece>();
        int remainderStart = FindRemainderStart(plans[volumeIndex - 1].Pieces, index, volumeIndex, plans.Count);
        for (int i = 0; i < remainderStart; i++)
        {
            var p = plans[volumeIndex - 1].Pieces[i];
            foreach (var (start, end) in wanted)
            {
                long a = Math.Max(start, p.SourceByteOffset), b = Math.Min(end, p.SourceByteOffset + p.LengthBytes);
                if (b > a) pieces.Add(new RestorePiece(p.ArchiveOffsetBytes + (a - p.SourceByteOffset), a, b - a));
            }
        }
        pieces.Sort((x, y) => x.ArchiveOffsetBytes.CompareTo(y.ArchiveOffsetBytes));
        return pieces;
    }

    static int FindRemainderStart(List<RestorePiece> pieces, TapeIndex index, int volumeIndex, int volumes)
    {
        string prefix = volumes > 1 ? $"vol{volumeIndex}/" : "";
        var remainder = index.Entries.First(e => e.Path == prefix + $".offhost/volume-{volumeIndex}.remainder");
        int i = pieces.FindIndex(p => p.ArchiveOffsetBytes >= remainder.MemberOffsetBytes);
        return i < 0 ? pieces.Count : i;
    }

    /// <summary>Reads and decodes the index tape file that follows the archive.</summary>
    public static async Task<TapeIndex> ReadIndexAsync(IStreamDevice tape, long archiveFile, CancellationToken cancellationToken)
    {
        var bytes = await TapeFileReader.ReadAllAsync(tape, archiveFile + 1, MaxIndexBytes, cancellationToken);
        if (bytes.Length == 0) throw new Core.Errors.UserFacingException($"tape file {archiveFile + 1} is empty: no index follows archive {archiveFile} (was the backup interrupted?)", 1);
        var index = TapeIndexDecoder.Decode(bytes);
        if (index.Header.ArchiveFileNumber != archiveFile)
            throw new Core.Errors.UserFacingException($"tape file {archiveFile + 1} is the index of archive {index.Header.ArchiveFileNumber}, not of {archiveFile}", 2);
        return index;
    }

    /// <summary>The index and the stored maps of the backup whose archive is tape file <paramref name="archiveFile"/>.</summary>
    public static async Task<(TapeIndex Index, IReadOnlyList<StoredMap> Maps)> ReadAsync(IStreamDevice tape, long archiveFile, CancellationToken cancellationToken)
    {
        var index = await ReadIndexAsync(tape, archiveFile, cancellationToken);
        return (index, await ReadMapsAsync(tape, archiveFile, index, cancellationToken));
    }

    /// <summary>Reads the storage maps stored in the archive, checking each against its checksum in the index.</summary>
    public static async Task<List<StoredMap>> ReadMapsAsync(IStreamDevice tape, long archiveFile, TapeIndex index, CancellationToken cancellationToken)
    {
        var mapEntries = index.Entries.Where(e => e.Path.EndsWith(".map.jsonl.gz", StringComparison.Ordinal) && e.Path.Contains(".offhost/volume-", StringComparison.Ordinal))
            .OrderBy(e => e.MemberOffsetBytes).ToList();
        if (mapEntries.Count == 0) throw new Core.Errors.UserFacingException("the backup holds no storage map (.offhost/volume-N.map.jsonl.gz); it cannot be restored block for block", 2);
        var result = new List<StoredMap>();
        // The maps are the archive's last members: the backup writes full records, so the record that holds a map is found
        // by its number instead of reading the whole archive up to it. Should the layout say otherwise, the checksum does,
        // and the archive is read from its start.
        int recordBytes = await ProbeRecordBytesAsync(tape, archiveFile, cancellationToken);
        foreach (var m in mapEntries)
        {
            var stream = m.Streams[0];
            if (stream.SizeBytes > MaxMapBytes) throw new InvalidDataException($"{m.Path}: {stream.SizeBytes} bytes is larger than a storage map may be");
            var gz = await TapeFileReader.ReadRangeAsync(tape, archiveFile, stream.DataOffsetBytes, stream.SizeBytes, cancellationToken, recordBytes);
            if (XxHash64.HashToUInt64(gz) != stream.XxHash64)
                gz = await TapeFileReader.ReadRangeAsync(tape, archiveFile, stream.DataOffsetBytes, stream.SizeBytes, cancellationToken);
            if (XxHash64.HashToUInt64(gz) != stream.XxHash64)
                throw new InvalidDataException($"{m.Path}: checksum does not match the tape index; the archive is damaged");
            result.Add(StoredMap.Decode(gz, m.Path));
        }
        return result;
    }

    static async Task<int> ProbeRecordBytesAsync(IStreamDevice tape, long archiveFile, CancellationToken cancellationToken)
    {
        await tape.LocateAsync(new TapePosition(archiveFile, 0), cancellationToken);
        var buffer = new byte[tape.MaxRecordBytes];
        var r = await tape.ReadRecordAsync(buffer, cancellationToken);
        if (r.Kind != TapeReadKind.Record) throw new InvalidDataException($"tape file {archiveFile} holds no records");
        return Math.Max(512, r.LengthBytes);
    }
}
