using System.CommandLine;
using System.Text.Json;
using Offhost.Cli.Output;
using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Io.Block;
using Offhost.Io.Tape;
using Offhost.Scsi.Identification;
using Offhost.Server.Backup;

namespace Offhost.Cli.Commands;

/// <summary><c>offhost backup-image SOURCE --tape TAPE</c>: writes the pax backup image of a volume to a tape
/// with EXTENDED COPY, and its index after it. The lower-level step that <c>offhost backup</c> builds on.</summary>
internal static class BackupImageCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("SOURCE") { Description = "Volume image, whole-disk image, block device or iscsi:// LUN (opened read-only)" };
        var tape = new Option<string>("--tape") { Description = "SIMH .tap virtual tape or iscsi:// tape, labelled with 'offhost tape new'", Required = true };
        var partition = new Option<int?>("--partition") { Description = "Back up only partition N (1-based)" };
        var recordSize = new Option<string>("--record-size") { Description = "Tape record size", DefaultValueFactory = _ => "256K" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("backup-image", "Write the backup image of a volume (pax archive + index) to a tape through EXTENDED COPY")
        {
            source, tape, partition, recordSize, json,
        };
        command.SetAction((r, ct) => RunAsync(r.GetValue(source)!, r.GetValue(tape)!, r.GetValue(partition),
            RecordBytes(r.GetValue(recordSize)!), r.GetValue(json), ct));
        return command;
    }

    /// <summary>A tape record size: a multiple of 512 from 512 bytes to 8 MiB (SIMH records reach 16 MiB; tape drives
    /// and tgt take less).</summary>
    internal static int RecordBytes(string text)
    {
        long bytes = TapeCommand.ParseSizeBytes(text, "--record-size");
        if (bytes % 512 != 0 || bytes > 8 << 20)
            throw new UserFacingException($"--record-size {text}: must be a multiple of 512 bytes, at most 8M", ExitCodes.Usage);
        return (int)bytes;
    }

    static async Task<int> RunAsync(string sourcePath, string tapePath, int? partition, int recordBytes, bool json, CancellationToken ct)
    {
        await using var source = await Devices.OpenSourceAsync(sourcePath, ct);
        await using var tape = await Devices.OpenTapeAsync(tapePath, writable: true, ct);
        await Devices.PositionForAppendAsync(tape, tapePath, ct);

        var request = new BackupImageRequest([new BackupImageSource(source.Source, source.Device, source.Naa) { Partition = partition, Description = sourcePath }],
            tape.Device, tape.Naa)
        {
            RecordBytes = recordBytes,
        };
        var result = await ProgressDisplay.RunAsync("Backing up", ProgressDisplay.Enabled(json), bytes: true, counter =>
        {
            counter.Total = source.Source.LengthBytes;
            return BackupImageJob.RunAsync(request, counter.Add, ct);
        });

        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new BackupImageJson(
                result.BackupId, tapePath, result.ArchiveFileNumber, result.IndexFileNumber, result.ArchiveBytes, result.Files,
                result.BytesFromDevice, result.InlineBytes, result.ParameterLists,
                result.Unmappable.Select(u => new UnmappableJson(u.Path, u.Id, u.Error))), CliJson.Default.BackupImageJson));
        }
        else
        {
            Console.WriteLine($"Backup {result.BackupId}: tape file {result.ArchiveFileNumber} (archive, {Units.Bytes(result.ArchiveBytes)}), tape file {result.IndexFileNumber} (index)");
            Console.WriteLine($"  {result.Files:N0} files; {Units.Bytes(result.BytesFromDevice)} copied device → tape, {Units.Bytes(result.InlineBytes)} inline; {result.ParameterLists:N0} EXTENDED COPY parameter lists");
            foreach (var u in result.Unmappable) Console.WriteLine($"  NOT backed up: {u.Path} (id {u.Id}): {u.Error}");
        }
        return result.Unmappable.Count > 0 ? ExitCodes.Incomplete : ExitCodes.Success;
    }
}
