using System.CommandLine;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Label;
using Offhost.Io.Tape;

namespace Offhost.Cli.Commands;

/// <summary><c>offhost tape new TAPE --capacity 10G --label VOL001</c>: a new, labelled, empty virtual tape.</summary>
internal static class TapeNewCommand
{
    public static Command Create()
    {
        var tape = new Argument<string>("TAPE") { Description = "Path of the .tap image to create" };
        var capacity = new Option<string>("--capacity") { Description = "Medium capacity, e.g. 10G (K/M/G/T are powers of 1024)", Required = true };
        var label = new Option<string>("--label") { Description = "Volume serial: 1 to 6 characters A-Z, 0-9 (e.g. VOL001)", Required = true };
        var earlyWarning = new Option<string?>("--early-warning") { Description = "Size of the early-warning zone before the end of medium (default: 2% of capacity, 64K..4G)" };
        var force = new Option<bool>("--force") { Description = "Erase and relabel an existing image" };
        var command = new Command("new", "Create a labelled virtual tape") { tape, capacity, label, earlyWarning, force };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            string path = parseResult.GetValue(tape)!;
            long capacityBytes = TapeCommand.ParseSizeBytes(parseResult.GetValue(capacity)!, "--capacity");
            string volumeId = parseResult.GetValue(label)!;
            try { VolumeLabelCodec.ValidateVolumeId(volumeId); }
            catch (ArgumentException e) { throw new UserFacingException(e.Message, ExitCodes.Usage); }
            string? ew = parseResult.GetValue(earlyWarning);
            long earlyWarningBytes = ew is null ? VolumeLabel.DefaultEarlyWarningBytes(capacityBytes) : TapeCommand.ParseSizeBytes(ew, "--early-warning");
            if (earlyWarningBytes >= capacityBytes)
                throw new UserFacingException("--early-warning must be smaller than --capacity", ExitCodes.Usage);
            var volume = new VolumeLabel(volumeId, capacityBytes, earlyWarningBytes, MapTime.FromDateTimeOffset(DateTimeOffset.UtcNow), Guid.NewGuid());
            if (Devices.IsIscsi(path))
            {
                await using (var existing = await Devices.OpenTapeAsync(path, writable: false, cancellationToken))
                    if (existing.Label is not null && !parseResult.GetValue(force))
                        throw new UserFacingException($"{path}: already labelled {existing.Label.VolumeId}; refusing to relabel a tape (use --force to erase it)", ExitCodes.Usage);
                await Devices.LabelIscsiTapeAsync(path, volume, cancellationToken);
            }
            else try
            {
                await using var device = SimhTapeDevice.Create(path, volume, parseResult.GetValue(force));
            }
            catch (ArgumentException e) { throw new UserFacingException(e.Message, ExitCodes.Usage); }
            await Console.Error.WriteLineAsync($"{path}: labelled {volumeId}, capacity {capacityBytes} bytes, early warning {earlyWarningBytes} bytes before end of medium");
            return ExitCodes.Success;
        });
        return command;
    }
}
