using System.CommandLine;
using System.Text.Json;
using Offhost.Cli.Output;
using Offhost.Server.Restore;

namespace Offhost.Cli.Commands;

/// <summary><c>offhost restore-files --tape TAPE --file N --to DIR [PATTERN…]</c>: files, trees and their metadata
/// from a backup image into a directory, in one pass over the tape.</summary>
internal static class RestoreFilesCommand
{
    public static Command Create()
    {
        var tape = new Option<string>("--tape") { Description = "Tape holding the backup (.tap image or iscsi:// tape)", Required = true };
        var file = new Option<long>("--file") { Description = "Tape file number of the backup's archive", Required = true };
        var to = new Option<string>("--to") { Description = "Directory to restore into; nothing is ever written outside it", Required = true };
        var patterns = new Argument<string[]>("PATTERN") { Description = "Paths or globs (*, **, ?) to restore; a directory restores its tree; none restores everything", Arity = ArgumentArity.ZeroOrMore };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("restore-files", "Restore files from a backup image into a directory, with times, modes, owners, xattrs and NTFS streams")
        {
            tape, file, to, patterns, json,
        };
        command.SetAction((r, ct) => RunAsync(r.GetValue(tape)!, r.GetValue(file), r.GetValue(to)!, r.GetValue(patterns) ?? [], r.GetValue(json), ct));
        return command;
    }

    static async Task<int> RunAsync(string tapePath, long archiveFile, string target, string[] patterns, bool json, CancellationToken ct)
    {
        Directory.CreateDirectory(target);
        await using var tape = await Devices.OpenTapeAsync(tapePath, writable: false, ct);
        var request = new FileRestoreRequest(tape.Device, archiveFile, target) { Patterns = patterns };
        var result = await ProgressDisplay.RunAsync("Restoring files", ProgressDisplay.Enabled(json), bytes: true, counter =>
            FileRestoreJob.RunAsync(request, counter.Add, ct));
        return Report(result, target, json);
    }

    /// <summary>Prints what a file restore did and returns its exit code.</summary>
    internal static int Report(FileRestoreResult result, string target, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new RestoreFilesJson(
                result.Files, result.Directories, result.Symlinks, result.HardLinks, result.SpecialFiles, result.Streams, result.DataBytes,
                result.Complete, result.Refused.Select(p => p.ToString()), result.Damaged.Select(p => p.ToString()),
                result.NotRestored.Select(p => p.ToString()), result.UnmatchedPatterns), CliJson.Default.RestoreFilesJson));
        }
        else
        {
            Console.WriteLine($"Restored {result.Files:N0} files, {result.Directories:N0} directories, {result.Symlinks:N0} symlinks, {result.HardLinks:N0} hard links, {result.SpecialFiles:N0} special files, {result.Streams:N0} streams; {Units.Bytes(result.DataBytes)} to {target}");
            foreach (var p in result.Damaged) Console.WriteLine($"  DAMAGED (checksum mismatch, kept aside): {p}");
            foreach (var p in result.Refused) Console.WriteLine($"  refused: {p}");
            foreach (var p in result.NotRestored) Console.WriteLine($"  not restored: {(p.Path.Length == 0 ? p.Reason : p.ToString())}");
            foreach (var p in result.UnmatchedPatterns) Console.WriteLine($"  nothing matched: {p}");
        }
        return result.Damaged.Count > 0 ? ExitCodes.VerifyFailed : result.Complete ? ExitCodes.Success : ExitCodes.Incomplete;
    }
}
