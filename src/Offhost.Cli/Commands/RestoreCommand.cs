using System.CommandLine;
using System.Text.Json;
using Offhost.Cli.Output;
using Offhost.Core.Errors;
using Offhost.Server.CatalogRebuild;
using Offhost.Server.Restore;

namespace Offhost.Cli.Commands;

/// <summary><c>offhost restore BACKUP --to DIR [PATH…]</c> (files and trees) and <c>offhost restore BACKUP --volume --to
/// TARGET</c> (a whole volume, through stream → block segments). The catalog says which tape and tape file.</summary>
internal static class RestoreCommand
{
    public static Command Create()
    {
        var backup = new Argument<string>("BACKUP") { Description = "Backup id, a unique prefix of it, or 'latest'" };
        var paths = new Argument<string[]>("PATH") { Description = "Files, trees or globs to restore, as 'offhost files' shows them; none restores everything", Arity = ArgumentArity.ZeroOrMore };
        var to = new Option<string>("--to") { Description = "Directory to restore into (nothing is written outside it), or with --volume the target image or block device", Required = true };
        var volume = new Option<bool>("--volume") { Description = "Restore the whole volume onto --to (an image file, created at the volume's size if missing, or a block device, overwritten)" };
        var volumeIndex = new Option<int>("--volume-index") { Description = "With --volume: which volume of a backup of several (1-based)", DefaultValueFactory = _ => 1 };
        var tape = CommonOptions.TapeOverride();
        var catalog = CommonOptions.Catalog();
        var json = CommonOptions.Json();
        var command = new Command("restore", "Restore files, trees or a whole volume from a catalogued backup")
        {
            backup, paths, to, volume, volumeIndex, tape, catalog, json,
        };
        command.SetAction((r, ct) => r.GetValue(volume)
            ? VolumeAsync(r.GetValue(backup)!, r.GetValue(paths) ?? [], r.GetValue(to)!, r.GetValue(volumeIndex), r.GetValue(tape), r.GetValue(catalog), r.GetValue(json), ct)
            : FilesAsync(r.GetValue(backup)!, r.GetValue(paths) ?? [], r.GetValue(to)!, r.GetValue(tape), r.GetValue(catalog), r.GetValue(json), ct));
        return command;
    }

    static async Task<int> FilesAsync(string backupName, string[] paths, string target, string? tapePath, string? catalogPath, bool json, CancellationToken ct)
    {
        using var catalog = CommonOptions.OpenCatalog(catalogPath);
        var backup = catalog.FindBackup(backupName);
        CommonOptions.WarnIfNotGood(backup);
        var location = CatalogRestoreIndex.Build(catalog, backup.Id, ct);
        await using var tape = await CommonOptions.OpenBackupTapeAsync(catalog, location.MediaLabel, tapePath, ct);
        Directory.CreateDirectory(target);
        var request = new FileRestoreRequest(tape.Device, location.ArchiveFileNumber, target)
        {
            Patterns = paths.Select(p => p.TrimStart('/')).Where(p => p.Length > 0).ToList(),
            Index = location.Index,
        };
        var result = await ProgressDisplay.RunAsync("Restoring files", ProgressDisplay.Enabled(json), bytes: true, counter =>
            FileRestoreJob.RunAsync(request, counter.Add, ct));
        return RestoreFilesCommand.Report(result, target, json);
    }

    static async Task<int> VolumeAsync(string backupName, string[] paths, string targetPath, int volumeIndex, string? tapePath, string? catalogPath, bool json, CancellationToken ct)
    {
        if (paths.Length > 0) throw new UserFacingException("--volume restores a whole volume; name no paths (restore files with --to DIR PATH…)", ExitCodes.Usage);
        using var catalog = CommonOptions.OpenCatalog(catalogPath);
        var backup = catalog.FindBackup(backupName);
        CommonOptions.WarnIfNotGood(backup);
        if (volumeIndex < 1 || volumeIndex > backup.Sources.Count)
            throw new UserFacingException($"backup {backup.Id} holds {backup.Sources.Count} volume(s); there is no volume {volumeIndex}", ExitCodes.Usage);
        var source = backup.Sources[volumeIndex - 1];
        if (source.FileSet is not null)
            throw new UserFacingException($"backup {backup.Id} holds a file set ({string.Join(" ", source.FileSet)}) of {source.Path}, not the whole volume; restore its files with --to DIR", ExitCodes.Usage);
        var (media, archiveFile) = CatalogRestoreIndex.Locate(catalog, backup.Id, ct);
        await using var tape = await CommonOptions.OpenBackupTapeAsync(catalog, media, tapePath, ct);
        var read = await VolumeRestoreJob.ReadAsync(tape.Device, archiveFile, ct);
        CreateMissingImage(targetPath, read.Maps, volumeIndex);
        return await RestoreImageCommand.RestoreVolumeAsync(tape, archiveFile, targetPath, volumeIndex, keepOffsets: false, null, json, ct, read);
    }

    /// <summary>A missing image file is created at the size of the volume; an existing target is used as it is (the restore checks it is large enough).</summary>
    static void CreateMissingImage(string targetPath, IReadOnlyList<StoredMap> maps, int volumeIndex)
    {
        if (Devices.IsIscsi(targetPath) || File.Exists(targetPath) || targetPath.StartsWith("/dev/", StringComparison.Ordinal)) return;
        if (volumeIndex > maps.Count) return;
        using var f = new FileStream(targetPath, FileMode.CreateNew, FileAccess.Write);
        f.SetLength(Server.Planning.ArchivePlanner.RemainderSizeBytes(maps[volumeIndex - 1].Volume));
    }
}
