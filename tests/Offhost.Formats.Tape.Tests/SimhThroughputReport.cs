using System.Diagnostics;
using Offhost.Core.Devices;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Label;
using Offhost.Io.Tape;
using Offhost.Testing;

namespace Offhost.Formats.Tape.Tests;

/// <summary>
/// Opt-in throughput report (OFFHOST_BENCH=1): SIMH tape writes and reads of 1 MiB records against the anchor of
/// plain sequential FileStream I/O of the same bytes on the same disk. Prints ratios; asserts only correctness.
/// </summary>
public sealed class SimhThroughputReport : IDisposable
{
    readonly Scratch scratch = new("simh-bench");

    public void Dispose() => scratch.Dispose();

    [Fact]
    public async Task Write_and_read_throughput_against_plain_file_io()
    {
        if (Environment.GetEnvironmentVariable("OFFHOST_BENCH") != "1") Assert.Skip("throughput report: set OFFHOST_BENCH=1");
        var ct = TestContext.Current.CancellationToken;
        const int recordBytes = 1 << 20;
        const int records = 512;
        byte[] data = TestData.Random(1, recordBytes);

        var buffer = new byte[recordBytes];
        double anchorWrite = double.MaxValue, tapeWrite = double.MaxValue, anchorRead = double.MaxValue, tapeRead = double.MaxValue;
        // Alternate and keep the best of three, so neither side always pays for the other's writeback.
        for (int round = 0; round < 3; round++)
        {
            File.Delete(scratch["anchor.bin"]);
            File.Delete(scratch["t.tap"]);
            var sw = Stopwatch.StartNew();
            await using (var fs = new FileStream(scratch["anchor.bin"], FileMode.Create, FileAccess.Write, FileShare.None, 0))
            {
                for (int i = 0; i < records; i++) fs.Write(data);
                fs.Flush(flushToDisk: true);
            }
            anchorWrite = Math.Min(anchorWrite, sw.Elapsed.TotalSeconds);

            sw.Restart();
            await using (var d = SimhTapeDevice.Create(scratch["t.tap"], new VolumeLabel("B1", 4L << 30, 1 << 20, new MapTime(0, 0), Guid.NewGuid())))
            {
                for (int i = 0; i < records; i++) await d.WriteRecordAsync(data, ct);
                await d.WriteFilemarksAsync(1, ct);
                await d.FlushAsync(ct);
            }
            tapeWrite = Math.Min(tapeWrite, sw.Elapsed.TotalSeconds);

            sw.Restart();
            await using (var fs = new FileStream(scratch["anchor.bin"], FileMode.Open, FileAccess.Read, FileShare.Read, 0))
                while (fs.Read(buffer) > 0) { }
            anchorRead = Math.Min(anchorRead, sw.Elapsed.TotalSeconds);

            sw.Restart();
            long n = 0;
            await using (var d = SimhTapeDevice.Open(scratch["t.tap"], writable: false))
            {
                await d.LocateAsync(new TapePosition(1, 0), ct);
                while ((await d.ReadRecordAsync(buffer, ct)).Kind == TapeReadKind.Record) n++;
            }
            tapeRead = Math.Min(tapeRead, sw.Elapsed.TotalSeconds);
            Assert.Equal(records, n);
        }

        double mib = (double)recordBytes * records / (1 << 20);
        TestContext.Current.SendDiagnosticMessage(
            $"write: tape {mib / tapeWrite:F0} MiB/s, FileStream anchor {mib / anchorWrite:F0} MiB/s, ratio {anchorWrite / tapeWrite:F2}; " +
            $"read: tape {mib / tapeRead:F0} MiB/s, anchor {mib / anchorRead:F0} MiB/s, ratio {anchorRead / tapeRead:F2}");
        Console.WriteLine($"write ratio tape/anchor {anchorWrite / tapeWrite:F2} ({mib / tapeWrite:F0} vs {mib / anchorWrite:F0} MiB/s); read ratio {anchorRead / tapeRead:F2} ({mib / tapeRead:F0} vs {mib / anchorRead:F0} MiB/s)");
    }
}
