using System.CommandLine;
using Offhost.Core.Errors;
using Offhost.Iscsi.Initiator;

namespace Offhost.Cli.Commands;

/// <summary>Options and helpers the catalog verbs share.</summary>
internal static class CommonOptions
{
    public static Option<string?> Catalog() =>
        new("--catalog") { Description = "Catalog database (default: $XDG_DATA_HOME/offhost/catalog.db, else ~/.local/share/offhost/catalog.db)" };

    public static Option<bool> Json() => new("--json") { Description = "Print the result as JSON" };

    /// <summary>Opens the catalog and says on stderr which backups it found interrupted (their process died).</summary>
    public static Catalog.Catalog OpenCatalog(string? path)
    {
        var catalog = Offhost.Catalog.Catalog.Open(path);
        foreach (var b in catalog.Interrupted)
            Console.Error.WriteLine($"offhost: backup {b.Id} was interrupted and is marked failed: {b.Error}");
        return catalog;
    }

    /// <summary>Says on stderr that <paramref name="backup"/> is not a good backup before anything is read from it: what
    /// its catalog rows and tape hold can still be restored (every file against its checksum), but the backup did not
    /// complete.</summary>
    public static void WarnIfNotGood(Offhost.Catalog.BackupRecord backup)
    {
        if (backup.Status == Offhost.Catalog.BackupStatus.Good) return;
        Console.Error.WriteLine($"offhost: warning: backup {backup.Id} is {backup.StatusName}{(backup.Error is { } e ? $" ({e})" : "")}; " +
            "using what its catalog and tape hold, each file checked against its checksum");
    }

    /// <summary>Where a tape is, as the catalog keeps it: a full path, or an iscsi:// address without its secret.</summary>
    public static string TapeLocation(string name) =>
        Devices.IsIscsi(name) ? IscsiUri.Parse(name).ToString() : Path.GetFullPath(name);

    public static Option<string?> TapeOverride() =>
        new("--tape") { Description = "Where the backup's tape is now (default: where the catalog last saw it)" };

    /// <summary>Opens the tape holding a catalogued backup, from <paramref name="tapeOverride"/> or the location the catalog
    /// keeps, and refuses a tape whose label is not the one the catalog names.</summary>
    public static async Task<OpenedTape> OpenBackupTapeAsync(Catalog.Catalog catalog, string mediaLabel, string? tapeOverride, CancellationToken ct)
    {
        string? path = tapeOverride ?? catalog.GetMedia(mediaLabel)?.Location;
        if (path is null)
            throw new UserFacingException($"the catalog does not know where tape {mediaLabel} is; name it with --tape", ExitCodes.Usage);
        var tape = await Devices.OpenTapeAsync(path, writable: false, ct);
        if (tape.Label?.VolumeId != mediaLabel)
        {
            await tape.DisposeAsync();
            throw new UserFacingException($"{path} holds tape {tape.Label?.VolumeId ?? "(no Offhost label)"}, not {mediaLabel}; load tape {mediaLabel} and name it with --tape", ExitCodes.Usage);
        }
        if (tapeOverride is not null) catalog.SetMediaLocation(mediaLabel, TapeLocation(tapeOverride));
        return tape;
    }

    /// <summary>A catalog path as users see and give it: "/dir/file", or "/volN/dir/file" in a backup of several volumes.</summary>
    public static string DisplayPath(string path, int volume, int volumes) =>
        "/" + Server.CatalogRebuild.CatalogRestoreIndex.MemberName(path, Math.Max(1, volume), volumes);

    /// <summary>A duration option ("3s", "500ms", "10m", "1h", or seconds) from 0 to <paramref name="max"/>.</summary>
    public static TimeSpan Duration(string text, string option, TimeSpan max)
    {
        TimeSpan d;
        try { d = Output.Units.ParseDuration(text); }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new UserFacingException($"{option} {text}: not a duration (e.g. 3s, 500ms, 10m)", ExitCodes.Usage);
        }
        if (d < TimeSpan.Zero || d > max) throw new UserFacingException($"{option} {text}: must be from 0 to {max}", ExitCodes.Usage);
        return d;
    }
}
