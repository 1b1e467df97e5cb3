using Offhost.Core.Devices;

namespace Offhost.DataMover.Execution;

/// <summary>
/// Reads records from one stream device for consecutive segments and keeps the bytes a segment read beyond what it needed
/// (residual source data, kept for the next segment when CAT=1). Buffers are allocated once per command. Single-threaded.
/// </summary>
internal sealed class StreamRecordReader(IStreamDevice device, int maxRecordBytes, CopyCommand command)
{
    // The bytes of a record a segment did not take stay where they were read: the two buffers swap roles instead of the
    // rest being copied, and taking from the leftover moves its start instead of shifting what remains (a volume restore
    // of small files takes a 1 MiB record in dozens of pieces).
    byte[] record = new byte[maxRecordBytes];
    byte[] leftover = new byte[maxRecordBytes];
    int leftoverStart;
    int leftoverBytes;

    public IStreamDevice Device => device;
    public int LeftoverBytes => leftoverBytes;

    /// <summary>Feeds exactly <paramref name="needBytes"/> bytes to <paramref name="sink"/>, reading records of up to
    /// <paramref name="recordBytes"/> bytes; then applies CAT/PAD to the record bytes left over.</summary>
    public async ValueTask ReadAsync(StreamToBlockPlan plan, Func<ReadOnlyMemory<byte>, ValueTask> sink, CancellationToken ct)
    {
        long need = plan.LengthBytes;
        int k = plan.Index;
        if (leftoverBytes > 0)
        {
            int take = (int)Math.Min(leftoverBytes, need);
            await sink(leftover.AsMemory(leftoverStart, take));
            leftoverStart += take;
            leftoverBytes -= take;
            need -= take;
        }
        while (need > 0)
        {
            TapeReadResult r;
            try
            {
                r = await device.ReadRecordAsync(record.AsMemory(0, plan.RecordBytes), ct);
            }
            catch (IOException e)
            {
                throw command.Abort(k, 0x0D, 0x01, $"read from {device.DeviceId} at {device.Position} failed: {e.Message}", device.DeviceId, null, e);
            }
            if (r.Kind != TapeReadKind.Record)
                throw command.Abort(k, 0x0D, 0x04, $"{(r.Kind == TapeReadKind.Filemark ? "filemark" : "end of data")} on {device.DeviceId} with {need} bytes still to read",
                    device.DeviceId, null, null);
            if (r.LengthBytes > plan.RecordBytes)
                throw command.Abort(k, 0x0D, 0x05, $"record of {r.LengthBytes} bytes on {device.DeviceId} is longer than the transfer length {plan.RecordBytes}; its tail was lost",
                    device.DeviceId, null, null);
            if (plan.FixedRecords && r.LengthBytes != plan.RecordBytes)
                throw command.Abort(k, 0x0D, 0x04, $"record of {r.LengthBytes} bytes on {device.DeviceId} in fixed mode with block length {plan.RecordBytes}",
                    device.DeviceId, null, null);
            int use = (int)Math.Min(r.LengthBytes, need);
            await sink(record.AsMemory(0, use));
            need -= use;
            if (use < r.LengthBytes)
            {
                (record, leftover) = (leftover, record);
                leftoverStart = use;
                leftoverBytes = r.LengthBytes - use;
            }
        }
        if (leftoverBytes > 0 && !plan.Descriptor.Cat)
        {
            if (!plan.SourcePad)
                throw command.Abort(k, 0x26, 0x0A, $"{leftoverBytes} bytes of the last record read from {device.DeviceId} are left over and neither CAT nor source PAD is set",
                    device.DeviceId, null, null);
            leftoverBytes = 0;
        }
    }
}
