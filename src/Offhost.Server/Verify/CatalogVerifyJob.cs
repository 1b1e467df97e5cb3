using Offhost.Core.Devices;
using Offhost.Server.CatalogRebuild;
using Offhost.Server.Restore;

namespace Offhost.Server.Verify;

/// <summary>
/// Verifies a catalogued backup: every stream the catalog records must be in the tape index at the same archive
/// offset with the same size and checksum, and <see cref="VerifyJob"/> then reads the archive and checks every byte
/// against the index. So the tape's data is checked against the catalog. The outcome is recorded in the catalog.
/// </summary>
public static class CatalogVerifyJob
{
    /// <param name="tape">The tape the catalog names for the backup (its label already checked by the caller).</param>
    public static async Task<VerifyResult> RunAsync(Catalog.Catalog catalog, string backupId, IStreamDevice tape, Action<long>? progressBytes,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var location = CatalogRestoreIndex.Build(catalog, backupId, cancellationToken);
        var onTape = await VolumeRestoreJob.ReadIndexAsync(tape, location.ArchiveFileNumber, cancellationToken).ConfigureAwait(false);
        var byOffset = onTape.Entries.SelectMany(e => e.Streams.Select(s => (Entry: e, Stream: s)))
            .GroupBy(x => (x.Stream.DataOffsetBytes, x.Stream.Name)).ToDictionary(g => g.Key, g => g.First());
        var problems = new List<VerifyProblem>();
        foreach (var entry in location.Index.Entries)
            foreach (var s in entry.Streams)
            {
                if (!byOffset.TryGetValue((s.DataOffsetBytes, s.Name), out var t))
                    problems.Add(new VerifyProblem(entry.Path, s.Name, s.DataOffsetBytes, "the catalog records this stream, the tape index has no stream there"));
                else if (t.Stream.SizeBytes != s.SizeBytes || t.Stream.XxHash64 != s.XxHash64)
                    problems.Add(new VerifyProblem(entry.Path, s.Name, s.DataOffsetBytes,
                        $"catalog and tape index disagree: {s.SizeBytes} bytes, xxh64 {s.XxHash64:x16} in the catalog; {t.Stream.SizeBytes} bytes, xxh64 {t.Stream.XxHash64:x16} on tape"));
            }

        var result = await VerifyJob.RunAsync(tape, location.ArchiveFileNumber, progressBytes, cancellationToken, onTape).ConfigureAwait(false);
        if (problems.Count > 0) result = result with { Problems = [.. problems, .. result.Problems] };
        catalog.RecordVerification(backupId, DateTimeOffset.UtcNow, result.Ok);
        return result;
    }
}
