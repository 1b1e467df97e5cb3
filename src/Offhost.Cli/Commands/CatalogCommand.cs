using System.CommandLine;
using System.Text.Json;
using Offhost.Cli.Output;
using Offhost.Server.CatalogRebuild;

namespace Offhost.Cli.Commands;

/// <summary><c>offhost catalog rebuild --tape TAPE [--catalog DB]</c>: the catalog entries of every backup on a tape,
/// from the tape alone (its label, archives, indexes and the storage maps inside the archives).</summary>
internal static class CatalogCommand
{
    public static Command Create()
    {
        var command = new Command("catalog", "Maintain the backup catalog (SQLite; docs/catalog.md)");
        var tape = new Option<string>("--tape") { Description = "Tape to read (.tap image or iscsi:// tape)", Required = true };
        var catalog = new Option<string?>("--catalog") { Description = "Catalog database (default: $XDG_DATA_HOME/offhost/catalog.db)" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var rebuild = new Command("rebuild", "Rebuild the catalog entries of every backup on a tape from the tape alone") { tape, catalog, json };
        rebuild.SetAction((r, ct) => RebuildAsync(r.GetValue(tape)!, r.GetValue(catalog), r.GetValue(json), ct));
        command.Subcommands.Add(rebuild);
        return command;
    }

    static async Task<int> RebuildAsync(string tapePath, string? catalogPath, bool json, CancellationToken ct)
    {
        await using var tape = await Devices.OpenTapeAsync(tapePath, writable: false, ct);
        using var catalog = Catalog.Catalog.Open(catalogPath);
        var result = await ProgressDisplay.RunAsync("Reading tape", ProgressDisplay.Enabled(json), bytes: true, counter =>
            CatalogRebuildJob.RunAsync(tape.Device, catalog, counter.Add, ct));
        catalog.SetMediaLocation(result.MediaLabel, CommonOptions.TapeLocation(tapePath));
        if (json)
            Console.WriteLine(JsonSerializer.Serialize(new CatalogRebuildJson(result.MediaLabel, result.BackupsAdded, result.BackupsAlreadyPresent, result.Files, result.Problems), CliJson.Default.CatalogRebuildJson));
        else
        {
            Console.WriteLine($"Tape {result.MediaLabel}: {result.BackupsAdded.Count} backup(s) added ({string.Join(", ", result.BackupsAdded)}), {result.BackupsAlreadyPresent} already in the catalog, {result.Files:N0} files");
            foreach (var p in result.Problems) Console.WriteLine($"  problem: {p}");
        }
        return result.Problems.Count > 0 ? ExitCodes.Incomplete : ExitCodes.Success;
    }
}
