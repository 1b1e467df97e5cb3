using System.CommandLine;
using System.Text.Json;
using Offhost.Agent.FrozenImages;
using Offhost.Cli.Output;
using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Server.Backup;

namespace Offhost.Cli.Commands;

/// <summary><c>offhost backup SOURCE... --tape TAPE</c>: frozen image (quiesce, freeze, snapshot), storage map, EXTENDED
/// COPY to tape, catalog; prints the backup id.</summary>
internal static class BackupCommand
{
    public static Command Create()
    {
        var sources = new Argument<string[]>("SOURCE") { Description = "Volume images, block devices, iscsi:// LUNs or mounted directories; one backup holds them all", Arity = ArgumentArity.OneOrMore };
        var tape = new Option<string>("--tape") { Description = "SIMH .tap virtual tape or iscsi:// tape, labelled with 'offhost tape new'", Required = true };
        var catalog = CommonOptions.Catalog();
        var files = new Option<string[]>("--files") { Description = "Back up only these paths or patterns of the volume (a directory brings its tree)", AllowMultipleArgumentsPerToken = true };
        var partition = new Option<int?>("--partition") { Description = "Back up only partition N (1-based) of a whole-disk source" };
        var quiesce = new Option<string>("--quiesce") { Description = "Write-inactivity window to wait for before the snapshot (0 = none)", DefaultValueFactory = _ => "3s" };
        var quiesceTimeout = new Option<string>("--quiesce-timeout") { Description = "Give up when no such window came within this time", DefaultValueFactory = _ => "80s" };
        var snapshot = new Option<string>("--snapshot") { Description = "auto, reflink, freeze or none (docs/frozen-image.md)", DefaultValueFactory = _ => "auto" };
        snapshot.AcceptOnlyFromAmong("auto", "reflink", "freeze", "none");
        var maxFreeze = new Option<string>("--max-freeze") { Description = "Longest a file system stays frozen (provider freeze); the backup fails if the copy takes longer", DefaultValueFactory = _ => "10m" };
        var snapshotDir = new Option<string?>("--snapshot-dir") { Description = "Where reflink clones go (same file system as the image; default: beside it)" };
        var whileFrozen = new Option<string?>("--while-frozen") { Description = "Shell command to run at the snapshot point, with the file system frozen (e.g. to note application state); it must be quick, and a non-zero exit fails the backup" };
        var recordSize = new Option<string>("--record-size") { Description = "Tape record size", DefaultValueFactory = _ => "256K" };
        var json = CommonOptions.Json();
        var agent = AgentClientOptions.Create();
        var command = new Command("backup", "Back up volumes or file sets from a frozen image to tape, and record them in the catalog")
        {
            sources, tape, catalog, files, partition, quiesce, quiesceTimeout, snapshot, maxFreeze, snapshotDir, whileFrozen, recordSize, json,
        };
        agent.AddTo(command);
        command.SetAction(async (r, ct) =>
        {
            var options = new FrozenImageOptions
            {
                Provider = Enum.Parse<SnapshotProvider>(r.GetValue(snapshot)!, ignoreCase: true),
                Quiesce = new QuiesceOptions
                {
                    InactivityWindow = CommonOptions.Duration(r.GetValue(quiesce)!, "--quiesce", QuiesceLimit),
                    Timeout = CommonOptions.Duration(r.GetValue(quiesceTimeout)!, "--quiesce-timeout", QuiesceLimit),
                },
                MaxFreeze = CommonOptions.Duration(r.GetValue(maxFreeze)!, "--max-freeze", FrozenImageOptions.MaxFreezeLimit),
                SnapshotDirectory = r.GetValue(snapshotDir),
                WhileFrozen = r.GetValue(whileFrozen) is { } hook ? (image, token) => RunWhileFrozenAsync(hook, image, token) : null,
            };
            if (options.MaxFreeze == TimeSpan.Zero) throw new UserFacingException("--max-freeze must be more than 0", ExitCodes.Usage);
            if (options.Quiesce.Enabled && options.Quiesce.Timeout < options.Quiesce.InactivityWindow)
                throw new UserFacingException("--quiesce-timeout must be at least the --quiesce window", ExitCodes.Usage);
            if (r.GetValue(files) is { Length: > 0 } patterns)
            {
                try { _ = new FileSet(patterns); }
                catch (ArgumentException e) { throw new UserFacingException($"--files: {e.Message}", ExitCodes.Usage); }
            }
            var targets = r.GetValue(sources)!.Select(s => new BackupTarget(s)
            {
                Files = r.GetValue(files) is { Length: > 0 } f ? f : null,
                Partition = r.GetValue(partition),
            }).ToList();
            using var connection = agent.Connect(r);
            if (connection is not null && r.GetValue(partition) is not null)
                throw new UserFacingException("--partition cannot be combined with --agent: the agent maps every file system of the source", ExitCodes.Usage);
            IFrozenSourceProvider freezer = connection is null ? new LocalFrozenSources(options) : agent.Sources(r, connection, options);
            return await RunAsync(targets, r.GetValue(tape)!, r.GetValue(catalog), freezer,
                BackupImageCommand.RecordBytes(r.GetValue(recordSize)!), r.GetValue(json), ct);
        });
        return command;
    }

    /// <summary>Runs the --while-frozen command with the snapshot's details in its environment; its output goes to stderr.</summary>
    static async Task RunWhileFrozenAsync(string command, FrozenImage image, CancellationToken ct)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardOutput = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        psi.Environment["OFFHOST_SOURCE"] = image.SourcePath;
        psi.Environment["OFFHOST_SNAPSHOT"] = image.SnapshotPath;
        psi.Environment["OFFHOST_SNAPSHOT_PROVIDER"] = image.Provider.ToString().ToLowerInvariant();
        using var process = System.Diagnostics.Process.Start(psi) ?? throw new UserFacingException($"--while-frozen: cannot start /bin/sh");
        var copy = process.StandardOutput.BaseStream.CopyToAsync(Console.OpenStandardError(), ct);
        try { await process.WaitForExitAsync(ct); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        await copy;
        if (process.ExitCode != 0)
            throw new UserFacingException($"--while-frozen command exited {process.ExitCode}; the snapshot was dropped and nothing was backed up");
    }

    /// <summary>Longest quiesce window or wait accepted (a day: longer is a typo, not a plan).</summary>
    static readonly TimeSpan QuiesceLimit = TimeSpan.FromDays(1);

    internal static async Task<int> RunAsync(IReadOnlyList<BackupTarget> targets, string tapePath, string? catalogPath, IFrozenSourceProvider freezer,
        int recordBytes, bool json, CancellationToken ct)
    {
        using var catalog = CommonOptions.OpenCatalog(catalogPath);
        await using var tape = await Devices.OpenTapeAsync(tapePath, writable: true, ct);
        await Devices.PositionForAppendAsync(tape, tapePath, ct);

        bool progress = ProgressDisplay.Enabled(json);
        var result = await ProgressDisplay.RunAsync("Backing up", progress, bytes: true, counter =>
        {
            var request = new BackupJobRequest(targets, freezer, OpenAsync, tape.Device, tape.Naa, tape.Label!, CommonOptions.TapeLocation(tapePath), catalog)
            {
                RecordBytes = recordBytes,
                EstimatedBytes = total => counter.Total = total,
            };
            return BackupJob.RunAsync(request, counter.Add, phase =>
            {
                counter.Phase = phase;
                if (!progress && !json) Console.Error.WriteLine($"offhost: {phase}");
            }, ct);
        });

        var image = result.Image;
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new BackupJson(
                result.BackupId, "good", result.FrozenAt, result.Provider, tape.Label!.VolumeId, image.ArchiveFileNumber, image.IndexFileNumber,
                result.Files, result.DataBytes, image.ArchiveBytes, image.BytesFromDevice, image.InlineBytes, image.ParameterLists,
                image.Volumes.Select(v => new BackupVolumeJson(v.FileSystem, v.SizeBytes, v.PartitionOffsetBytes)),
                image.Unmappable.Select(u => new UnmappableJson(u.Path, u.Id, u.Error)),
                result.Unmatched), CliJson.Default.BackupJson));
        }
        else
        {
            Console.WriteLine(result.BackupId);
            Console.WriteLine($"  good: {result.Files:N0} files, {Units.Bytes(result.DataBytes)} of data; frozen image at {result.FrozenAt:yyyy-MM-dd HH:mm:ss}Z ({result.Provider})");
            Console.WriteLine($"  tape {tape.Label!.VolumeId}: file {image.ArchiveFileNumber} (archive, {Units.Bytes(image.ArchiveBytes)}), file {image.IndexFileNumber} (index); " +
                $"{Units.Bytes(image.BytesFromDevice)} copied device → tape in {image.ParameterLists:N0} EXTENDED COPY parameter lists");
            foreach (var u in image.Unmappable) Console.WriteLine($"  NOT backed up: {u.Path} (id {u.Id}): {u.Error}");
            foreach (var p in result.Unmatched) Console.WriteLine($"  nothing matched --files {p}");
        }
        return image.Unmappable.Count > 0 || result.Unmatched.Count > 0 ? ExitCodes.Incomplete : ExitCodes.Success;
    }

    static async Task<OpenedSource> OpenAsync(string path, CancellationToken ct)
    {
        var opened = await Devices.OpenSourceAsync(path, ct);
        return new OpenedSource(opened.Source, opened.Device, opened.Naa, opened);
    }
}
