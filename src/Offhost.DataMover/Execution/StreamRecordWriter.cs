using Offhost.Core.Devices;

namespace Offhost.DataMover.Execution;

/// <summary>
/// Cuts the bytes of consecutive segments into records for one stream device. Full records are written straight from the
/// caller's memory; only a record that straddles two calls is assembled in the writer's own buffer (allocated once per
/// command). Single-threaded.
/// </summary>
internal sealed class StreamRecordWriter(IStreamDevice device, int maxRecordBytes, CopyCommand command)
{
    readonly byte[] assembly = new byte[maxRecordBytes];
    int assembled;
    int recordBytes = 1;

    public IStreamDevice Device => device;

    /// <summary>Input bytes accepted so far (including those still waiting in the assembly buffer).</summary>
    public long AcceptedBytes { get; private set; }

    /// <summary>Input bytes that are on the medium or were deliberately discarded.</summary>
    public long HandledBytes => AcceptedBytes - assembled;

    public int PendingBytes => assembled;

    public void SetRecordBytes(int bytes) => recordBytes = bytes;

    public async ValueTask AppendAsync(ReadOnlyMemory<byte> data, int segment, CancellationToken ct)
    {
        AcceptedBytes += data.Length;
        while (assembled >= recordBytes && assembled > 0)
            await DrainOneAssembledAsync(segment, ct);
        while (!data.IsEmpty)
        {
            if (assembled == 0 && data.Length >= recordBytes)
            {
                var record = data[..recordBytes];
                data = data[recordBytes..];
                assembled = 0;
                await WriteRecordAsync(record, segment, ct);
                continue;
            }
            int n = Math.Min(recordBytes - assembled, data.Length);
            data.Span[..n].CopyTo(assembly.AsSpan(assembled));
            assembled += n;
            data = data[n..];
            if (assembled == recordBytes) await DrainOneAssembledAsync(segment, ct);
        }
    }

    async ValueTask DrainOneAssembledAsync(int segment, CancellationToken ct)
    {
        await WriteRecordAsync(assembly.AsMemory(0, recordBytes), segment, ct);
        assembled -= recordBytes;
        if (assembled > 0) assembly.AsSpan(recordBytes, assembled).CopyTo(assembly);
    }

    public async ValueTask EndSegmentAsync(EndAction end, int segment, CancellationToken ct)
    {
        if (assembled == 0 || end == EndAction.Carry) return;
        while (assembled >= recordBytes) await DrainOneAssembledAsync(segment, ct);     // the record size shrank under a residual
        if (assembled == 0) return;
        switch (end)
        {
            case EndAction.FlushShort:
                {
                    int n = assembled;
                    await WriteRecordAsync(assembly.AsMemory(0, n), segment, ct);
                    assembled = 0;
                    return;
                }
            case EndAction.PadRecord:
                assembly.AsSpan(assembled, recordBytes - assembled).Clear();
                await WriteRecordAsync(assembly.AsMemory(0, recordBytes), segment, ct);
                assembled = 0;
                return;
            case EndAction.Strip:
                assembled = 0;
                return;
            default:
                throw command.Abort(segment, 0x26, 0x0A, $"{assembled} residual bytes for {device.DeviceId} at the end of an exact segment", null, null, null);
        }
    }

    async ValueTask WriteRecordAsync(ReadOnlyMemory<byte> record, int segment, CancellationToken ct)
    {
        if (record.IsEmpty) return;
        TapeWriteStatus status;
        try
        {
            status = await device.WriteRecordAsync(record, ct);
        }
        catch (EndOfMediumException e)
        {
            // Nothing of this record is on the medium: whatever is pending (this record, the assembly) is not written.
            throw command.EndOfMedium(segment, $"end of medium on {device.DeviceId}: a {record.Length}-byte record did not fit", device.DeviceId, e);
        }
        catch (IOException e)
        {
            throw command.Abort(segment, 0x0D, 0x01, $"write to {device.DeviceId} failed: {e.Message}", device.DeviceId, null, e);
        }
        command.AddTransferred(record.Length);
        if (status == TapeWriteStatus.EarlyWarning)
        {
            // The record is on the medium. Stop here: the data still pending would be written into the early-warning zone
            // and might not fit; the caller continues on the next medium from exactly this point.
            throw command.EndOfMedium(segment, $"early warning on {device.DeviceId} after a {record.Length}-byte record", device.DeviceId, null);
        }
    }
}
