using System.CommandLine;
using System.Text.Json;
using Offhost.Cli.Output;
using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Formats.Tape.Index;
using Offhost.Io.Tape;

namespace Offhost.Cli.Commands;

/// <summary><c>offhost tape ls TAPE [--json]</c>: the label, capacity and tape files of a virtual tape.</summary>
internal static class TapeLsCommand
{
    public static Command Create()
    {
        var tape = new Argument<string>("TAPE") { Description = "Path of the .tap image, or an iscsi:// tape (spaced over from start to end of data; only the first record of each tape file is read)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout" };
        var command = new Command("ls", "List the label, capacity and tape files of a virtual tape") { tape, json };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            string path = parseResult.GetValue(tape)!;
            if (Devices.IsIscsi(path)) return await ListIscsiAsync(path, parseResult.GetValue(json), cancellationToken);
            await using var device = SimhTapeDevice.Open(path, writable: false);
            var files = await device.ScanAsync(cancellationToken);
            var label = device.Label;
            var kinds = new List<string>();
            foreach (var f in files) kinds.Add(await DescribeAsync(device, f, cancellationToken));
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
                        w.WriteString("content", kinds[(int)f.FileNumber]);
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
                await stdout.WriteLineAsync($"{f.FileNumber,6} {f.Records,10} {f.DataBytes,16}{(f.EndedByFilemark ? "" : "  (no closing filemark)")}  {kinds[(int)f.FileNumber]}");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>What a tape file holds, from its first record: volume label, pax archive, or an index with its backup.</summary>
    static async Task<string> DescribeAsync(SimhTapeDevice device, TapeFileSummary file, CancellationToken ct)
    {
        if (file.Records == 0) return "";
        await device.LocateAsync(new TapePosition(file.FileNumber, 0), ct);
        var buffer = new byte[Math.Min(device.MaxRecordBytes, TapeIndexFormat.MaxRecordBytes + 8)];
        var r = await device.ReadRecordAsync(buffer, ct);
        return Describe(file.FileNumber, device.Label is not null, buffer.AsSpan(0, Math.Min(r.LengthBytes, buffer.Length)));
    }

    /// <summary>What a tape file holds, from its first record.</summary>
    static string Describe(long fileNumber, bool labelled, ReadOnlySpan<byte> first)
    {
        if (fileNumber == 0 && labelled) return "volume label";
        if (first.Length >= 263 && first[257..263].SequenceEqual("ustar\0"u8)) return "pax archive";
        if (first.StartsWith(TapeIndexFormat.Magic))
        {
            try
            {
                var h = TapeIndexDecoder.DecodeHeader(first);
                return $"index of backup {h.BackupId} (archive in file {h.ArchiveFileNumber}, {h.Created}, {h.SourceDescription})";
            }
            catch (CorruptStructureException e) { return "damaged index: " + e.Reason; }
        }
        return "data";
    }

    /// <summary>Lists a tape reached over iSCSI by reading it from the start to the end of data (a drive has no
    /// directory of its tape files; tgt has no READ POSITION either).</summary>
    static async Task<int> ListIscsiAsync(string path, bool json, CancellationToken ct)
    {
        await using var tape = await Devices.OpenTapeAsync(path, writable: false, ct);
        var device = tape.Device;
        var contents = new Dictionary<long, string>();
        var files = await Server.Media.TapeMedium.ScanAsync(device, (file, first) => contents[file] = Describe(file, tape.Label is not null, first.Span), ct);
        var rows = files.Select(f => (File: f.FileNumber, f.Records, Bytes: f.DataBytes, Closed: f.EndedByFilemark, Content: contents.GetValueOrDefault(f.FileNumber, ""))).ToList();
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new TapeListJson(
                path, tape.Label?.VolumeId, tape.Label?.VolumeUuid, tape.Label?.CapacityBytes,
                rows.Select(x => new TapeFileJson(x.File, x.Records, x.Bytes, x.Closed, x.Content))), CliJson.Default.TapeListJson));
            return ExitCodes.Success;
        }
        Console.WriteLine(tape.Label is null ? "label     (none: not an Offhost tape)" : $"label     {tape.Label.VolumeId}  ({tape.Label.VolumeUuid}, created {tape.Label.Created})");
        Console.WriteLine($"{"file",6} {"records",10} {"bytes",16}");
        foreach (var x in rows)
            Console.WriteLine($"{x.File,6} {x.Records,10} {x.Bytes,16}{(x.Closed ? "" : "  (no closing filemark)")}  {x.Content}");
        return ExitCodes.Success;
    }
}
