using System.CommandLine;
using System.Text.Json;
using Offhost.Io.Tape;

namespace Offhost.Cli.Commands;

/// <summary><c>offhost tape ls TAPE [--json]</c>: the label, capacity and tape files of a virtual tape.</summary>
internal static class TapeLsCommand
{
    public static Command Create()
    {
        var tape = new Argument<string>("TAPE") { Description = "Path of the .tap image" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout" };
        var command = new Command("ls", "List the label, capacity and tape files of a virtual tape") { tape, json };
        command.SetAction((parseResult, cancellationToken) => TapeCommand.RunAsync(async () =>
        {
            string path = parseResult.GetValue(tape)!;
            await using var device = SimhTapeDevice.Open(path, writable: false);
            var files = await device.ScanAsync(cancellationToken);
            var label = device.Label;
            var stdout = Console.Out;
            if (parseResult.GetValue(json))
            {
                using var ms = new MemoryStream();
                using (var w = new Utf8JsonWriter(ms))
                {
                    w.WriteStartObject();
                    w.WriteString("path", path);
                    if (label is null) w.WriteNull("label");
                    else
                    {
                        w.WriteString("label", label.VolumeId);
                        w.WriteString("volume_uuid", label.VolumeUuid);
                        w.WriteNumber("capacity", label.CapacityBytes);
                        w.WriteNumber("early_warning", label.EarlyWarningBytes);
                        w.WriteString("created", label.Created.ToString());
                    }
                    w.WriteNumber("used", device.ImageBytes);
                    w.WriteStartArray("files");
                    foreach (var f in files)
                    {
                        w.WriteStartObject();
                        w.WriteNumber("file", f.FileNumber);
                        w.WriteNumber("records", f.Records);
                        w.WriteNumber("bytes", f.DataBytes);
                        w.WriteNumber("offset", f.StartOffsetBytes);
                        w.WriteBoolean("closed", f.EndedByFilemark);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                await stdout.WriteLineAsync(System.Text.Encoding.UTF8.GetString(ms.ToArray()));
                return ExitCodes.Success;
            }
            if (label is null) await stdout.WriteLineAsync($"label     (none: not an Offhost tape)");
            else
            {
                await stdout.WriteLineAsync($"label     {label.VolumeId}  ({label.VolumeUuid}, created {label.Created})");
                await stdout.WriteLineAsync($"capacity  {label.CapacityBytes} bytes, early warning {label.EarlyWarningBytes} bytes before end");
            }
            await stdout.WriteLineAsync($"used      {device.ImageBytes} bytes");
            await stdout.WriteLineAsync($"{"file",6} {"records",10} {"bytes",16}");
            foreach (var f in files)
                await stdout.WriteLineAsync($"{f.FileNumber,6} {f.Records,10} {f.DataBytes,16}{(f.EndedByFilemark ? "" : "  (no closing filemark)")}{(f.FileNumber == 0 && label is not null ? "  volume label" : "")}");
            return ExitCodes.Success;
        }));
        return command;
    }
}
