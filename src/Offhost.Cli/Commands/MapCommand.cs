using System.CommandLine;
using System.Diagnostics;
using Offhost.Cli.Output;
using Offhost.Core.Mapping;
using Offhost.Mapping;

namespace Offhost.Cli.Commands;

/// <summary><c>offhost map SOURCE [--json] [--partition N]</c>: the storage map of a volume.</summary>
internal static class MapCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("SOURCE") { Description = "Volume image, whole-disk image, block device or iscsi:// LUN" };
        var json = new Option<bool>("--json") { Description = "Print the map as JSON Lines on stdout (docs/formats/storage-map.md)" };
        var partition = new Option<int?>("--partition") { Description = "Map only partition N (1-based) of a partitioned disk" };
        var command = new Command("map", "Print the storage map of a file system: every file as resident bytes or physical extents")
        {
            source, json, partition,
        };
        command.SetAction((parseResult, cancellationToken) => RunAsync(
            parseResult.GetValue(source)!, parseResult.GetValue(json), parseResult.GetValue(partition), cancellationToken));
        return command;
    }

    static async Task<int> RunAsync(string source, bool json, int? partition, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        await using var opened = await Devices.OpenSourceAsync(source, cancellationToken);
        var blockSource = opened.Source;
        var mappers = VolumeOpener.Open(blockSource, partition);
        var summaries = new List<(IVolumeMapper Mapper, MapSummary Summary)>();

        if (json)
        {
            await using var stdout = Console.OpenStandardOutput();
            using (var writer = new StorageMapLineWriter(stdout))
            {
                foreach (var mapper in mappers)
                {
                    var summary = new MapSummary();
                    writer.WriteVolume(mapper.Volume);
                    foreach (var entry in mapper.Entries(cancellationToken))
                    {
                        summary.Add(entry);
                        writer.WriteEntry(entry);
                    }
                    summaries.Add((mapper, summary));
                }
            }
            await stdout.FlushAsync(cancellationToken);
        }
        else
        {
            await ProgressDisplay.RunAsync("Mapping", ProgressDisplay.Enabled(json), bytes: false, counter => Task.Run(() =>
            {
                foreach (var mapper in mappers)
                {
                    var summary = new MapSummary();
                    foreach (var entry in mapper.Entries(cancellationToken))
                    {
                        summary.Add(entry);
                        counter.Set(mapper.Statistics.RecordsScanned);
                    }
                    summaries.Add((mapper, summary));
                }
                return 0;
            }, cancellationToken));
            PrintSummary(summaries, stopwatch.Elapsed);
        }

        foreach (var (mapper, summary) in summaries)
        {
            foreach (var w in mapper.Volume.Warnings) await Console.Error.WriteLineAsync($"offhost: warning: {w}");
            if (summary.Unmappable > 0 && json)
                await Console.Error.WriteLineAsync($"offhost: {summary.Unmappable} entries could not be mapped (type \"unmappable\" in the output)");
        }
        return summaries.Any(s => s.Summary.Unmappable > 0) ? ExitCodes.Incomplete : ExitCodes.Success;
    }

    static void PrintSummary(List<(IVolumeMapper Mapper, MapSummary Summary)> summaries, TimeSpan elapsed)
    {
        long records = 0;
        foreach (var (mapper, s) in summaries)
        {
            var v = mapper.Volume;
            records += mapper.Statistics.RecordsScanned;
            Console.WriteLine($"Volume: {v.FileSystem}{(v.Partition is int p ? $", partition {p}" : "")} at byte {v.PartitionOffsetBytes}, {Units.Bytes(v.SizeBytes)}, cluster {v.ClusterSizeBytes} bytes, label \"{v.Label}\", serial {v.Serial}");
            Console.WriteLine($"  files {s.Files:N0}, directories {s.Directories:N0}, symlinks {s.Symlinks:N0}, unmappable {s.Unmappable:N0}, special files {s.SpecialFiles:N0}");
            Console.WriteLine($"  streams: resident {s.ResidentStreams:N0}, non-resident {s.NonResidentStreams:N0}, sparse {s.SparseStreams:N0}, compressed {s.CompressedStreams:N0}, encrypted {s.EncryptedStreams:N0}");
            Console.WriteLine($"  bytes mapped {Units.Bytes(s.BytesMapped)} of {Units.Bytes(s.LogicalBytes)} stream bytes; {mapper.Statistics.RecordsScanned:N0} records scanned");
            foreach (var u in s.FirstUnmappable) Console.WriteLine($"  unmappable: {u.Path} (id {u.Id}): {u.Error}");
            if (s.Unmappable > s.FirstUnmappable.Count) Console.WriteLine($"  … and {s.Unmappable - s.FirstUnmappable.Count:N0} more unmappable (see --json)");
        }
        double seconds = Math.Max(elapsed.TotalSeconds, 1e-6);
        Console.WriteLine($"Time: {elapsed.TotalSeconds:F2} s ({records / seconds:N0} records/s)");
    }
}
