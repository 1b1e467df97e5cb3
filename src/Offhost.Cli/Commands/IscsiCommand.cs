using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Offhost.Core.Units;
using Offhost.Iscsi.Initiator;

namespace Offhost.Cli.Commands;

/// <summary><c>offhost iscsi ls URI</c>: targets of a portal and LUNs of a target; <c>offhost iscsi read-bench URI</c>
/// (hidden): sequential read throughput of a LUN, for bench/iscsi-read.sh.</summary>
internal static class IscsiCommand
{
    public static Command Create()
    {
        var command = new Command("iscsi", "Work with iSCSI portals, targets and LUNs");
        command.Subcommands.Add(List());
        command.Subcommands.Add(ReadBench());
        return command;
    }

    static Command List()
    {
        var uri = new Argument<string>("URI") { Description = "iscsi://[user@]HOST[:PORT] lists targets; iscsi://HOST/IQN lists its LUNs (secret: OFFHOST_ISCSI_SECRET or ?secret-file=PATH)" };
        var command = new Command("ls", "List the targets of a portal, or the LUNs of a target") { uri };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var parsed = IscsiUri.Parse(parseResult.GetValue(uri)!);
            var options = new IscsiInitiatorOptions();
            if (parsed.TargetName is null)
            {
                foreach (var target in await IscsiDevices.DiscoverAsync(parsed, options, cancellationToken))
                    Console.WriteLine($"{target.Name}\t{string.Join(' ', target.Addresses)}");
                return ExitCodes.Success;
            }
            foreach (var lun in await IscsiDevices.ListLunsAsync(parsed, options, cancellationToken))
            {
                string size = lun.SizeBytes is long bytes ? bytes.ToString(CultureInfo.InvariantCulture) + " bytes" : "";
                Console.WriteLine($"{lun.Lun}\t{lun.DeviceType}\t{lun.Vendor} {lun.Product}\t{size}".TrimEnd());
            }
            return ExitCodes.Success;
        });
        return command;
    }

    static Command ReadBench()
    {
        var uri = new Argument<string>("URI") { Description = "iscsi://HOST[:PORT]/IQN/LUN of a disk" };
        var requestBytes = new Option<int>("--request-bytes") { Description = "Bytes per READ command", DefaultValueFactory = _ => 1024 * 1024 };
        var depth = new Option<int>("--queue-depth") { Description = "Commands in flight", DefaultValueFactory = _ => 8 };
        var seconds = new Option<double>("--seconds") { Description = "How long to read (wrapping at the end of the LUN)", DefaultValueFactory = _ => 10 };
        var command = new Command("read-bench", "Sequential read throughput of a LUN") { uri, requestBytes, depth, seconds };
        command.Hidden = true;
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            int request = parseResult.GetValue(requestBytes);
            int queueDepth = parseResult.GetValue(depth);
            var limit = TimeSpan.FromSeconds(parseResult.GetValue(seconds));
            var options = new IscsiInitiatorOptions { QueueDepth = queueDepth, MaxTransferBytes = request };
            await using var disk = await IscsiDevices.OpenBlockAsync(parseResult.GetValue(uri)!, options, cancellationToken);
            long blocksPerRequest = request / disk.BlockSizeBytes;
            long next = 0;
            long totalBytes = 0;
            var clock = Stopwatch.StartNew();
            async Task WorkerAsync()
            {
                var buffer = new byte[blocksPerRequest * disk.BlockSizeBytes];
                while (clock.Elapsed < limit)
                {
                    // Wrap at the end of the LUN, as iscsi-perf does, so both run for the same time.
                    long requests = disk.BlockCount / blocksPerRequest;
                    long lba = (Interlocked.Increment(ref next) - 1) % requests * blocksPerRequest;
                    await disk.ReadAsync(new Lba(lba), buffer, cancellationToken);
                    Interlocked.Add(ref totalBytes, buffer.Length);
                }
            }
            await Task.WhenAll(Enumerable.Range(0, queueDepth).Select(_ => Task.Run(WorkerAsync, cancellationToken)));
            double elapsed = clock.Elapsed.TotalSeconds;
            double mibPerSecond = totalBytes / 1048576.0 / elapsed;
            Console.WriteLine(FormattableString.Invariant($"read {totalBytes} bytes in {elapsed:0.000} s: {mibPerSecond:0.0} MiB/s"));
            return ExitCodes.Success;
        });
        return command;
    }
}
