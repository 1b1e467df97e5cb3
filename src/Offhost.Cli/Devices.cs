using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Formats.Tape.Label;
using Offhost.Iscsi.Initiator;
using Offhost.Io.Block;
using Offhost.Io.Tape;
using Offhost.Scsi.Identification;

namespace Offhost.Cli;

/// <summary>A block device opened for a command, with the NAA designator EXTENDED COPY names it by.</summary>
internal sealed record OpenedBlock(IBlockDevice Device, IBlockSource Source, byte[] Naa) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await Device.DisposeAsync();
        if (!ReferenceEquals(Source, Device) && Source is IDisposable d) d.Dispose();
    }
}

/// <summary>A tape opened for a command: the device, its Offhost volume label (null when unlabelled) and its NAA designator.</summary>
internal sealed record OpenedTape(IStreamDevice Device, VolumeLabel? Label, byte[] Naa) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Device.DisposeAsync();
}

/// <summary>
/// Opens what commands name: image files and block devices by path, LUNs and tapes as
/// <c>iscsi://[user[:secret]@]HOST[:PORT]/IQN/LUN</c> (secrets also from OFFHOST_ISCSI_SECRET). Sources are opened read-only.
/// </summary>
internal static class Devices
{
    public static bool IsIscsi(string name) => name.StartsWith("iscsi://", StringComparison.OrdinalIgnoreCase);

    static IscsiInitiatorOptions IscsiOptions(bool readOnly) => new()
    {
        ReadOnly = readOnly,
        HeaderDigest = Environment.GetEnvironmentVariable("OFFHOST_ISCSI_DIGESTS") == "1",
        DataDigest = Environment.GetEnvironmentVariable("OFFHOST_ISCSI_DIGESTS") == "1",
    };

    /// <summary>A source to map: read-only, positional reads.</summary>
    public static async Task<OpenedBlock> OpenSourceAsync(string name, CancellationToken ct) => await OpenBlockAsync(name, writable: false, ct);

    public static async Task<OpenedBlock> OpenBlockAsync(string name, bool writable, CancellationToken ct)
    {
        if (IsIscsi(name))
        {
            var lun = await IscsiDevices.OpenBlockAsync(name, IscsiOptions(!writable), ct);
            var naa = NaaDesignator.TryParse(lun.DeviceId) ?? NaaDesignator.Naa6FromIdentity(lun.DeviceId);
            return new OpenedBlock(lun, lun, naa);
        }
        var device = FileBlockDevice.Open(name, new FileBlockDeviceOptions { Writable = writable });
        var source = new FileBlockSource(name, device.DeviceId);
        return new OpenedBlock(device, source, device.NaaDesignator);
    }

    public static async Task<OpenedTape> OpenTapeAsync(string name, bool writable, CancellationToken ct)
    {
        if (IsIscsi(name))
        {
            var tape = await IscsiDevices.OpenTapeAsync(name, IscsiOptions(false), ct);
            var label = await Server.Media.TapeMedium.ReadLabelAsync(tape, ct);
            var naa = NaaDesignator.TryParse(tape.DeviceId) ?? NaaDesignator.Naa6FromIdentity(tape.DeviceId);
            return new OpenedTape(tape, label, naa);
        }
        var simh = SimhTapeDevice.Open(name, writable);
        return new OpenedTape(simh, simh.Label, NaaDesignator.Naa6FromIdentity("tape:" + (simh.Label?.VolumeUuid.ToString() ?? Path.GetFullPath(name))));
    }

    /// <summary>Writes an Offhost volume label as tape file 0 of a tape reached over iSCSI (erasing what follows).</summary>
    public static async Task LabelIscsiTapeAsync(string name, VolumeLabel label, CancellationToken ct)
    {
        await using var tape = await IscsiDevices.OpenTapeAsync(name, IscsiOptions(false), ct);
        await tape.RewindAsync(ct);
        await tape.WriteRecordAsync(VolumeLabelCodec.Encode(label), ct);
        await tape.WriteFilemarksAsync(1, ct);
        await tape.FlushAsync(ct);
    }

    public static void RequireLabel(OpenedTape tape, string name)
    {
        if (tape.Label is null)
            throw new UserFacingException($"{name}: no Offhost volume label; label the tape first with 'offhost tape new'", ExitCodes.Usage);
    }

    /// <summary>Checks the label and moves to end of data, where a backup is appended. Says so when a virtual tape ends in
    /// a record cut short by an interrupted write (that record is overwritten; it belonged to a backup that never
    /// finished, since a backup is good only once it is synced).</summary>
    public static async Task PositionForAppendAsync(OpenedTape tape, string name, CancellationToken ct)
    {
        RequireLabel(tape, name);
        await tape.Device.SpaceAsync(SpaceUnit.EndOfData, 1, ct);
        if (tape.Device is SimhTapeDevice { TornTailOffsetBytes: long torn } simh)
            await Console.Error.WriteLineAsync($"offhost: warning: {name}: the tape ends in an incomplete record at byte offset {torn} " +
                $"({simh.ImageBytes - torn} bytes, left by an interrupted write); writing from there");
    }
}
