using System.CommandLine;
using Offhost.Core.Devices;
using Offhost.Cli.Output;
using Offhost.Core.Errors;
using Offhost.Io.Tape;

namespace Offhost.Cli.Commands;

/// <summary><c>offhost tape cat TAPE --file N</c>: the data of one tape file on stdout (e.g. piped into <c>tar -x</c>).</summary>
internal static class TapeCatCommand
{
    public static Command Create()
    {
        var tape = new Argument<string>("TAPE") { Description = "Path of the .tap image, or an iscsi:// tape" };
        var file = new Option<long>("--file") { Description = "Tape file number (0 is the volume label)", Required = true };
        var command = new Command("cat", "Write the records of one tape file to stdout") { tape, file };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            string path = parseResult.GetValue(tape)!;
            long fileNumber = parseResult.GetValue(file);
            if (fileNumber < 0) throw new UserFacingException("--file must be 0 or more", ExitCodes.Usage);
            await using var opened = await Devices.OpenTapeAsync(path, writable: false, cancellationToken);
            var device = opened.Device;
            // Bytes, rate and, on a .tap image (whose record headers give the file's size), the ETA on stderr when it is
            // a terminal: stdout is the data.
            bool progress = ProgressDisplay.Enabled(json: false);
            long totalBytes = progress && device is SimhTapeDevice simh
                ? (await simh.ScanAsync(cancellationToken)).FirstOrDefault(f => f.FileNumber == fileNumber)?.DataBytes ?? 0
                : 0;
            try
            {
                await device.LocateAsync(new TapePosition(fileNumber, 0), cancellationToken);
            }
            catch (IOException e) when (e is not CorruptStructureException)
            {
                throw new UserFacingException($"{path}: no tape file {fileNumber}: {e.Message}", ExitCodes.Usage);
            }
            return await ProgressDisplay.RunAsync($"Reading tape file {fileNumber}", progress, bytes: true, async counter =>
            {
                counter.Total = totalBytes;
                // One buffer of the largest record: no record is ever cut short. Each record is one write to stdout.
                var buffer = GC.AllocateUninitializedArray<byte>(device.MaxRecordBytes);
                await using var stdout = Console.OpenStandardOutput();
                while (true)
                {
                    var r = await device.ReadRecordAsync(buffer, cancellationToken);
                    if (r.Kind != TapeReadKind.Record) break;
                    await stdout.WriteAsync(buffer.AsMemory(0, r.LengthBytes), cancellationToken);
                    counter.Add(r.LengthBytes);
                }
                await stdout.FlushAsync(cancellationToken);
                return ExitCodes.Success;
            });
        });
        return command;
    }
}
