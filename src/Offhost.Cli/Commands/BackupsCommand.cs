using System.CommandLine;
using System.Text.Json;
using Offhost.Catalog;
using Offhost.Cli.Output;

namespace Offhost.Cli.Commands;

/// <summary><c>offhost backups</c>: every backup the catalog knows, oldest first.</summary>
internal static class BackupsCommand
{
    public static Command Create()
    {
        var catalog = CommonOptions.Catalog();
        var json = CommonOptions.Json();
        var command = new Command("backups", "List the backups in the catalog") { catalog, json };
        command.SetAction(r => Run(r.GetValue(catalog), r.GetValue(json)));
        return command;
    }

    static int Run(string? catalogPath, bool json)
    {
        using var catalog = CommonOptions.OpenCatalog(catalogPath);
        var backups = catalog.ListBackups();
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(backups.Select(b => new BackupListJson(
                b.Id, b.StatusName, b.StartedAt, b.FinishedAt, b.FrozenImageAt, b.SnapshotProvider,
                b.Sources.Select(s => new BackupSourceJson(s.Path, s.FileSystem, s.FileSet)),
                b.Files, b.Bytes,
                catalog.TapeFilesOf(b.Id).Select(t => new BackupTapeFileJson(t.MediaLabel, t.FileNumber, t.Kind.ToString().ToLowerInvariant(), t.Bytes)),
                b.Remapped, b.RemapDetails, b.VerifiedAt, b.VerifyOk, b.Error)), CliJson.Default.IEnumerableBackupListJson));
            return ExitCodes.Success;
        }
        if (backups.Count == 0)
        {
            Console.WriteLine($"No backups in {catalog.Path}");
            return ExitCodes.Success;
        }
        Console.WriteLine($"{"ID",-26} {"STATUS",-10} {"FROZEN AT (UTC)",-19} {"FILES",9} {"DATA",10}  {"TAPE",-14} SOURCES");
        foreach (var b in backups)
        {
            var archive = catalog.TapeFilesOf(b.Id).FirstOrDefault(t => t.Kind == TapeFileKind.Archive);
            string tape = archive is null ? "-" : $"{archive.MediaLabel}:{archive.FileNumber}";
            string sources = string.Join(", ", b.Sources.Select(s => $"{s.Path} ({s.FileSystem}{(s.FileSet switch { null => "", [] => ", a file set", var set => ", files " + string.Join(" ", set) })})"));
            string verified = b.VerifyOk switch { true => " verified", false => " VERIFY FAILED", null => "" };
            Console.WriteLine($"{b.Id,-26} {b.StatusName + verified,-10} {(b.FrozenImageAt ?? b.StartedAt):yyyy-MM-dd HH:mm:ss} {b.Files,9:N0} {Units.Bytes(b.Bytes),10}  {tape,-14} {sources}");
            if (b.Error is { } error) Console.WriteLine($"{"",26} {error}");
            if (b.RemapDetails is { } remap) Console.WriteLine($"{"",26} remapped: {remap}");
        }
        return ExitCodes.Success;
    }
}
