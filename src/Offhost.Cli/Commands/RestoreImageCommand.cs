using System.CommandLine;
using System.Text.Json;
using Offhost.Cli.Output;
using Offhost.Core.Errors;
using Offhost.Io.Block;
using Offhost.Io.Tape;
using Offhost.Scsi.Identification;
using Offhost.Server.Restore;

namespace Offhost.Cli.Commands;

/// <summary><c>offhost restore-image --tape TAPE --file N --to TARGET</c>: writes a volume (or single files, in
/// place) back to a block device through EXTENDED COPY stream → block segments.</summary>
internal static class RestoreImageCommand
{
    public static Command Create()
    {
        var tape = new Option<string>("--tape") { Description = "SIMH .tap virtual tape holding the backup", Required = true };
        var file = new Option<long>("--file") { Description = "Tape file number of the backup's archive (see 'offhost tape ls')", Required = true };
        var to = new Option<string>("--to") { Description = "Target image file or block device; it is overwritten", Required = true };
        var volume = new Option<int>("--volume-index") { Description = "Which volume of a multi-volume backup (1-based)", DefaultValueFactory = _ => 1 };
        var keepOffsets = new Option<bool>("--keep-offsets") { Description = "Write blocks at their original device addresses (target is a whole disk)" };
        var paths = new Option<string[]>("--path") { Description = "Restore only this file's blocks, in place (repeatable)", AllowMultipleArgumentsPerToken = true };
        var create = new Option<string?>("--create") { Description = "Create the target image file with this size first (e.g. 64M)" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("restore-image", "Restore a volume, or files in place, from a backup image through EXTENDED COPY stream-to-block segments")
        {
            tape, file, to, volume, keepOffsets, paths, create, json,
        };
        command.SetAction((r, ct) => RunAsync(r.GetValue(tape)!, r.GetValue(file), r.GetValue(to)!, r.GetValue(volume), r.GetValue(keepOffsets),
            r.GetValue(paths), r.GetValue(create), r.GetValue(json), ct));
        return command;
    }

    static async Task<int> RunAsync(string tapePath, long archiveFile, string targetPath, int volumeIndex, bool keepOffsets,
        string[]? paths, string? create, bool json, CancellationToken ct)
    {
        if (create is not null)
        {
            if (Devices.IsIscsi(targetPath)) throw new UserFacingException("--create makes image files; an iSCSI LUN already exists", ExitCodes.Usage);
            if (File.Exists(targetPath)) throw new UserFacingException($"{targetPath}: exists; --create makes a new image only", ExitCodes.Usage);
            using var f = File.Create(targetPath);
            f.SetLength(Units.ParseBytes(create));
        }
        await using var tape = await Devices.OpenTapeAsync(tapePath, writable: false, ct);
        return await RestoreVolumeAsync(tape, archiveFile, targetPath, volumeIndex, keepOffsets, paths, json, ct);
    }

    /// <summary>Restores a volume (or files in place) of archive <paramref name="archiveFile"/> onto a target device.</summary>
    internal static async Task<int> RestoreVolumeAsync(OpenedTape tape, long archiveFile, string targetPath, int volumeIndex, bool keepOffsets,
        string[]? paths, bool json, CancellationToken ct, (Formats.Tape.Index.TapeIndex Index, IReadOnlyList<StoredMap> Maps)? read = null)
    {
        await using var target = await Devices.OpenBlockAsync(targetPath, writable: true, ct);
        var request = new VolumeRestoreRequest(tape.Device, tape.Naa, archiveFile, target.Device, target.Naa)
        {
            VolumeIndex = volumeIndex,
            KeepOffsets = keepOffsets,
            Read = read,
            Paths = paths is { Length: > 0 } ? paths.ToHashSet(StringComparer.Ordinal) : null,
        };
        var result = await ProgressDisplay.RunAsync("Restoring", ProgressDisplay.Enabled(json), bytes: true, counter =>
            VolumeRestoreJob.RunAsync(request, counter.Add, ct));
        if (json)
            Console.WriteLine(JsonSerializer.Serialize(new RestoreImageJson(targetPath, result.Volume.FileSystem, result.BytesWritten, result.Pieces, result.ParameterLists), CliJson.Default.RestoreImageJson));
        else
            Console.WriteLine($"Restored {result.Volume.FileSystem} volume to {targetPath}: {Units.Bytes(result.BytesWritten)} written in {result.Pieces:N0} pieces, {result.ParameterLists:N0} EXTENDED COPY parameter lists");
        return ExitCodes.Success;
    }
}
