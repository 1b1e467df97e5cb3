using System.CommandLine;
using Offhost.Cli.Output;
using Offhost.Server.CatalogRebuild;
using Offhost.Server.Verify;

namespace Offhost.Cli.Commands;

/// <summary><c>offhost verify BACKUP</c>: reads a catalogued backup back from tape and checks every checksum against the catalog.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var backup = new Argument<string>("BACKUP") { Description = "Backup id, a unique prefix of it, or 'latest'" };
        var tape = CommonOptions.TapeOverride();
        var catalog = CommonOptions.Catalog();
        var json = CommonOptions.Json();
        var command = new Command("verify", "Read a backup back from tape and check every checksum against the catalog") { backup, tape, catalog, json };
        command.SetAction((r, ct) => RunAsync(r.GetValue(backup)!, r.GetValue(tape), r.GetValue(catalog), r.GetValue(json), ct));
        return command;
    }

    static async Task<int> RunAsync(string backupName, string? tapePath, string? catalogPath, bool json, CancellationToken ct)
    {
        using var catalog = CommonOptions.OpenCatalog(catalogPath);
        var backup = catalog.FindBackup(backupName);
        CommonOptions.WarnIfNotGood(backup);
        var location = CatalogRestoreIndex.Build(catalog, backup.Id, ct);
        await using var tape = await CommonOptions.OpenBackupTapeAsync(catalog, location.MediaLabel, tapePath, ct);
        var result = await ProgressDisplay.RunAsync("Verifying", ProgressDisplay.Enabled(json), bytes: true, counter =>
        {
            counter.Total = backup.Bytes;
            return CatalogVerifyJob.RunAsync(catalog, backup.Id, tape.Device, counter.Add, ct);
        });
        return VerifyImageCommand.Report(result, json, backup.Id);
    }
}
