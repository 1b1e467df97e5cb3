using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Offhost.Catalog;
using Offhost.Cli.Output;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Server.Backup;

namespace Offhost.Cli.Commands;

/// <summary><c>offhost files BACKUP [PATTERN]</c>: the files of a backup, from the catalog (no tape needed).</summary>
internal static class FilesCommand
{
    public static Command Create()
    {
        var backup = new Argument<string>("BACKUP") { Description = "Backup id, a unique prefix of it, or 'latest'" };
        var pattern = new Argument<string?>("PATTERN") { Description = "Path or glob (*, **, ?): '/home/**', '*.log'; a directory lists its tree; default: everything", Arity = ArgumentArity.ZeroOrOne };
        var catalog = CommonOptions.Catalog();
        var json = new Option<bool>("--json") { Description = "Print one JSON object per file (JSON Lines)" };
        var command = new Command("files", "List the files of a backup (from the catalog)") { backup, pattern, catalog, json };
        command.SetAction((r, ct) => Task.FromResult(Run(r.GetValue(backup)!, r.GetValue(pattern), r.GetValue(catalog), r.GetValue(json), ct)));
        return command;
    }

    static int Run(string backupName, string? pattern, string? catalogPath, bool json, CancellationToken ct)
    {
        using var catalog = CommonOptions.OpenCatalog(catalogPath);
        var backup = catalog.FindBackup(backupName);
        int volumes = Math.Max(1, backup.Sources.Count);
        var (volume, glob) = Split(pattern, volumes);
        FileSet? match;
        try { match = glob is null ? null : new FileSet([glob]); }
        catch (ArgumentException e) { throw new UserFacingException($"pattern {pattern}: {e.Message}", ExitCodes.Usage); }
        long count = 0;
        var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false };
        foreach (var f in catalog.FindFiles(backup.Id, "**", ct))
        {
            if (volume is { } v && f.VolumeIndex != v) continue;
            if (match is not null && !match.Contains(f.Path) && !f.Links.Any(match.Contains)) continue;
            count++;
            string path = CommonOptions.DisplayPath(f.Path, f.VolumeIndex, volumes);
            if (json)
            {
                output.WriteLine(JsonSerializer.Serialize(new FileJson(
                    path, f.KindName, f.SizeBytes, f.Mode is { } m ? Convert.ToString(m, 8) : null, f.Uid, f.Gid, f.Modified?.ToString(),
                    f.Links.Select(l => CommonOptions.DisplayPath(l, f.VolumeIndex, volumes)), f.Target,
                    f.Device is { } dev ? new DeviceNumberJson(dev.Major, dev.Minor) : null, f.Attributes, f.Error), CliJson.Default.FileJson));
            }
            else
            {
                char type = f.Kind switch
                {
                    CatalogFileKind.Directory => 'd',
                    CatalogFileKind.Symlink => 'l',
                    CatalogFileKind.Unmappable => '!',
                    // As ls -l shows them: p FIFO, c and b devices, s socket.
                    CatalogFileKind.Special => f.Special switch { SpecialFileKind.Fifo => 'p', SpecialFileKind.CharDevice => 'c', SpecialFileKind.BlockDevice => 'b', _ => 's' },
                    _ => '-',
                };
                string mode = f.Mode is { } md ? Convert.ToString(md & 0xFFF, 8).PadLeft(4, '0') : "   -";
                string time = f.Modified is { } t ? t.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "-";
                string extra = f.Kind == CatalogFileKind.Symlink && f.Target is { } target ? " -> " + target : f.Links.Count > 0 ? $"  (+{f.Links.Count} hard link(s))" : "";
                // A device shows its major,minor where a file shows its size, as ls -l does.
                string size = f.Device is { } d ? $"{d.Major},{d.Minor}" : f.SizeBytes.ToString("N0", CultureInfo.InvariantCulture);
                output.WriteLine($"{type} {mode} {size,14}  {time}  {path}{extra}");
            }
        }
        output.Flush();
        if (!json) Console.Error.WriteLine($"offhost: {count:N0} file(s) in backup {backup.Id}");
        return ExitCodes.Success;
    }

    /// <summary>"/vol2/dir/*" in a backup of several volumes selects volume 2 (as archive member names do); the rest is
    /// matched against catalog paths.</summary>
    static (int? Volume, string? Glob) Split(string? pattern, int volumes)
    {
        if (pattern is null) return (null, null);
        string p = pattern.Contains('/', StringComparison.Ordinal) && !pattern.StartsWith('/') ? "/" + pattern : pattern;
        if (volumes <= 1 || !p.StartsWith("/vol", StringComparison.Ordinal)) return (null, p);
        var (volume, path) = Server.CatalogRebuild.CatalogRestoreIndex.SplitMember(p.TrimStart('/') + (p.IndexOf('/', 1) < 0 ? "/" : ""), volumes);
        return path == "/" + p.TrimStart('/') ? (null, p) : (volume, path == "/" ? null : path);
    }
}
