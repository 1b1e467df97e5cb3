using System.Buffers;
using System.Diagnostics;
using Offhost.Core.Mapping;

namespace Offhost.Formats.Ext4.Tests;

/// <summary>
/// Not a timing assertion: when OFFHOST_EXT4_BENCH_IMAGE names an image (bench/ext4-map.sh sets it), maps it twice
/// (entries only, then JSON Lines to a discarding writer) and prints inodes per second and peak working set.
/// </summary>
[Trait("Category", "Benchmark")]
public sealed class MapThroughputProbe
{
    [Fact]
    public void Map_image_named_by_environment()
    {
        string? image = Environment.GetEnvironmentVariable("OFFHOST_EXT4_BENCH_IMAGE");
        if (string.IsNullOrEmpty(image)) Assert.Skip("set OFFHOST_EXT4_BENCH_IMAGE (bench/ext4-map.sh does) to measure");
        using var img = new Ext4TestImage(image);
        foreach (bool json in new[] { false, true, false, true })
        {
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            long allocated0 = GC.GetTotalAllocatedBytes(precise: true);
            var sw = Stopwatch.StartNew();
            var mapper = img.Open();
            long entries = 0;
            var buffer = new ArrayBufferWriter<byte>(1 << 16);
            using var writer = StorageMapJson.CreateWriter(buffer);
            if (json) { StorageMapJson.WriteVolume(writer, mapper.Volume); writer.Flush(); }
            foreach (var e in mapper.Entries(TestContext.Current.CancellationToken))
            {
                entries++;
                if (!json) continue;
                StorageMapJson.WriteEntry(writer, e);
                writer.Flush();
                writer.Reset();
                buffer.ResetWrittenCount();
            }
            sw.Stop();
            double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated0;
            double rate = mapper.Statistics.RecordsScanned / sw.Elapsed.TotalSeconds;
            string line = $"ext4-map{(json ? " --json" : "")}: {entries} entries, {mapper.Statistics.RecordsScanned} inodes in {sw.Elapsed.TotalSeconds:F3} s (cpu {cpu:F3} s) = {rate:F0} inodes/s, {allocated / Math.Max(1, entries)} bytes allocated per entry, peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20)} MiB";
            TestContext.Current.SendDiagnosticMessage(line);
            Console.Error.WriteLine(line);
        }
    }
}
