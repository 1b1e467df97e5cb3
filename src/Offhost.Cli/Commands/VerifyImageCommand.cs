using System.CommandLine;
using System.Text.Json;
using Offhost.Cli.Output;
using Offhost.Server.Verify;

namespace Offhost.Cli.Commands;

/// <summary><c>offhost verify-image --tape TAPE --file N</c>: reads a backup back from the tape and checks every
/// stream's checksum and the archive's layout against the tape index.</summary>
internal static class VerifyImageCommand
{
    public static Command Create()
    {
        var tape = new Option<string>("--tape") { Description = "Tape holding the backup (.tap image or iscsi:// tape)", Required = true };
        var file = new Option<long>("--file") { Description = "Tape file number of the backup's archive", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("verify-image", "Read a backup image back from tape and check every checksum against its index") { tape, file, json };
        command.SetAction((r, ct) => RunAsync(r.GetValue(tape)!, r.GetValue(file), r.GetValue(json), ct));
        return command;
    }

    static async Task<int> RunAsync(string tapePath, long archiveFile, bool json, CancellationToken ct)
    {
        await using var tape = await Devices.OpenTapeAsync(tapePath, writable: false, ct);
        var result = await ProgressDisplay.RunAsync("Verifying", ProgressDisplay.Enabled(json), bytes: true, counter =>
            VerifyJob.RunAsync(tape.Device, archiveFile, counter.Add, ct));
        return Report(result, json);
    }

    /// <summary>Prints a verification's outcome and returns its exit code.</summary>
    internal static int Report(VerifyResult result, bool json, string? catalogId = null)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new VerifyJson(
                catalogId ?? result.BackupId.ToString(), result.Ok, result.Members, result.StreamsChecked, result.DataBytesChecked,
                result.ArchiveBytes, result.EndOfArchive, result.Problems.Select(p => p.ToString())), CliJson.Default.VerifyJson));
        }
        else
        {
            Console.WriteLine($"Backup {catalogId ?? result.BackupId.ToString()}: {result.Members:N0} members, {result.StreamsChecked:N0} streams, {Units.Bytes(result.DataBytesChecked)} checked: {(result.Ok ? "OK" : $"{result.Problems.Count} PROBLEM(S)")}");
            foreach (var p in result.Problems) Console.WriteLine($"  {p}");
        }
        return result.Ok ? ExitCodes.Success : ExitCodes.VerifyFailed;
    }
}
