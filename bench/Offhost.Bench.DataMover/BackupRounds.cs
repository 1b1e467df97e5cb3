using System.Diagnostics;
using System.Globalization;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Label;
using Offhost.Io.Block;
using Offhost.Io.Tape;
using Offhost.Server.Backup;

namespace Offhost.Bench.DataMover;

/// <summary>
/// <c>backup IMAGE TAPE [rounds] [record-bytes]</c>: runs the product's backup image job (map, plan, EXTENDED COPY to a
/// SIMH tape, index) several times in one process and prints, per round, wall seconds, CPU seconds (user, system) and
/// archive bytes. Round 1 includes JIT compilation; later rounds show the steady state of the copy path.
/// Environment: BENCH_DIRECT=1 opens the source with O_DIRECT; BENCH_COLD=1 drops the page cache before every round.
/// </summary>
internal static class BackupRounds
{
    public static async Task<int> RunAsync(string image, string tapePath, int rounds, int recordBytes)
    {
        for (int r = 1; r <= rounds; r++)
        {
            File.Delete(tapePath);
            var label = new VolumeLabel("BENCH", 8L << 30, VolumeLabel.DefaultEarlyWarningBytes(8L << 30), MapTime.FromDateTimeOffset(DateTimeOffset.UtcNow), Guid.NewGuid());
            using var tape = SimhTapeDevice.Create(tapePath, label);
            if (Environment.GetEnvironmentVariable("BENCH_COLD") == "1")
            {
                using (var sync = Process.Start("sync")) sync.WaitForExit();
                File.WriteAllText("/proc/sys/vm/drop_caches", "3");
            }
            await using var device = FileBlockDevice.Open(image, new FileBlockDeviceOptions { DirectIo = Environment.GetEnvironmentVariable("BENCH_DIRECT") == "1" });
            using var source = new FileBlockSource(image, device.DeviceId);
            byte[] tapeNaa = Scsi.Identification.NaaDesignator.Naa6FromIdentity("bench-tape:" + label.VolumeUuid);
            var request = new BackupImageRequest(source, device, device.NaaDesignator, tape, tapeNaa, image) { RecordBytes = recordBytes };
            var process = Process.GetCurrentProcess();
            process.Refresh();
            TimeSpan user0 = process.UserProcessorTime, sys0 = process.PrivilegedProcessorTime;
            var sw = Stopwatch.StartNew();
            var result = await BackupImageJob.RunAsync(request, null, CancellationToken.None);
            sw.Stop();
            process.Refresh();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {r}: {sw.Elapsed.TotalSeconds:F3} s wall, {(process.UserProcessorTime - user0).TotalSeconds:F3} s user, {(process.PrivilegedProcessorTime - sys0).TotalSeconds:F3} s sys, {result.ArchiveBytes} archive bytes, {result.ParameterLists} lists"));
        }
        return 0;
    }
}
