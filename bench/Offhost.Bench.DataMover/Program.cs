using System.Diagnostics;
using System.Globalization;
using Offhost.Bench.DataMover;
using Offhost.DataMover;
using Offhost.Io.Block;
using Offhost.Scsi.ExtendedCopy;

// Usage: Offhost.Bench.DataMover backup IMAGE TAPE [rounds] [record-bytes]   (the whole backup image job, see BackupRounds)
//        Offhost.Bench.DataMover IMAGE OUTPUT [record-bytes] [read-chunk-bytes] [reads-in-flight] [direct:0|1] [fsync:0|1]
// Copies IMAGE block→stream to OUTPUT (records concatenated) with one EXTENDED COPY list and prints "seconds bytes".
if (args.Length >= 3 && args[0] == "backup")
    return await BackupRounds.RunAsync(args[1], args[2], args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 3,
        args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 1 << 20);
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: IMAGE OUTPUT [record-bytes] [read-chunk-bytes] [reads-in-flight] [direct:0|1] [fsync:0|1]");
    return 2;
}
int Arg(int i, int dflt) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : dflt;
int record = Arg(2, 1 << 20), chunk = Arg(3, CopyManagerOptions.Default.ReadChunkBytes), depth = Arg(4, CopyManagerOptions.Default.ReadsInFlight);
bool direct = Arg(5, 0) == 1, fsync = Arg(6, 0) == 1;
if (Environment.GetEnvironmentVariable("BENCH_MINTHREADS") is string mt) ThreadPool.SetMinThreads(int.Parse(mt, CultureInfo.InvariantCulture), 8);

await using var src = FileBlockDevice.Open(args[0], new FileBlockDeviceOptions { DirectIo = direct });
// BENCH_DEVICE=plain: a minimal synchronous file writer; default: the product's FileStreamDevice.
await using Offhost.Core.Devices.IStreamDevice dst = Environment.GetEnvironmentVariable("BENCH_DEVICE") == "plain"
    ? new PlainFileStreamDevice(args[1], fsync)
    : Offhost.Io.Tape.FileStreamDevice.CreateWrite(args[1]);
var registry = new DeviceRegistry();
const string requester = "bench";
byte[] tapeNaa = Offhost.Scsi.Identification.NaaDesignator.Naa6FromIdentity("bench-output");
registry.Register(requester, src.NaaDesignator, src);
registry.Register(requester, tapeNaa, dst);

// Segments of 65535 blocks (the 16-bit limit), CAT on all but the last so records run on across segments.
var segments = new List<SegmentDescriptor>();
for (long lba = 0; lba < src.BlockCount; lba += 65535)
{
    var n = (ushort)Math.Min(65535, src.BlockCount - lba);
    segments.Add(new BlockToStreamSegment(0, 1, record, n, (ulong)lba) { Cat = lba + n < src.BlockCount });
}
var list = new ExtendedCopyParameterList(1,
[
    IdentificationCscdDescriptor.ForNaa(src.NaaDesignator, PeripheralDeviceType.DirectAccessBlock, new BlockDeviceTypeParameters(false, src.BlockSizeBytes)),
    IdentificationCscdDescriptor.ForNaa(tapeNaa, PeripheralDeviceType.SequentialAccess, new StreamDeviceTypeParameters(true, false, 0)),
], segments);
var limits = OperatingParameters.Default with { MaxStreamDeviceTransferSizeBytes = 64 << 20 };
var manager = new CopyManager(registry, requester, new CopyManagerOptions { OperatingParameters = limits, ReadChunkBytes = chunk, ReadsInFlight = depth });

var sw = Stopwatch.StartNew();
var outcome = await manager.ExecuteAsync(list, CancellationToken.None);
sw.Stop();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{sw.Elapsed.TotalSeconds:F3} {outcome.TransferredBytes}"));
return 0;
