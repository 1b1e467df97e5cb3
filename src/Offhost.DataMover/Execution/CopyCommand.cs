using Offhost.Core.Devices;
using Offhost.Scsi.ExtendedCopy;
using Offhost.Scsi.Sense;

namespace Offhost.DataMover.Execution;

/// <summary>
/// One EXTENDED COPY being executed: checks every segment against the devices first (<see cref="Plan"/>), then moves the
/// data segment by segment (<see cref="RunAsync"/>). Progress counters may be read from other threads while it runs.
/// </summary>
internal sealed class CopyCommand
{
    readonly ExtendedCopyParameterList list;
    readonly DeviceRegistry registry;
    readonly string requester;
    readonly CopyManagerOptions options;
    readonly ReadBufferPool buffers;
    readonly OperatingParameters limits;
    readonly List<SegmentPlan> plans = [];
    readonly bool[] done;
    readonly (StreamRecordWriter Writer, long Target)?[] deferred;
    readonly Dictionary<IStreamDevice, StreamRecordWriter> writers = new(ReferenceEqualityComparer.Instance);
    readonly Dictionary<IStreamDevice, StreamRecordReader> readers = new(ReferenceEqualityComparer.Instance);
    readonly Dictionary<IBlockDevice, BlockByteWriter> blockWriters = new(ReferenceEqualityComparer.Instance);
    long transferredBytes;
    int maxRecordBytes = 1;
    int maxBlockBytes = 512;

    public CopyCommand(ExtendedCopyParameterList list, DeviceRegistry registry, string requester, CopyManagerOptions options, ReadBufferPool buffers)
    {
        this.buffers = buffers;
        this.list = list;
        this.registry = registry;
        this.requester = requester;
        this.options = options;
        limits = options.OperatingParameters;
        done = new bool[list.SegmentDescriptors.Count];
        deferred = new (StreamRecordWriter, long)?[list.SegmentDescriptors.Count];
        Held = new HeldData((int)Math.Min(limits.HeldDataLimitBytes, int.MaxValue));
    }

    public HeldData Held { get; }

    public long TransferredBytes => Interlocked.Read(ref transferredBytes);

    public void AddTransferred(long bytes) => Interlocked.Add(ref transferredBytes, bytes);

    /// <summary>Segments whose data is all on the destinations (a CAT residual counts once it is written).</summary>
    public int SegmentsProcessed
    {
        get
        {
            int i = 0;
            while (i < done.Length && (Volatile.Read(ref done[i]) || deferred[i] is { } d && d.Writer.HandledBytes >= d.Target)) i++;
            return i;
        }
    }

    // ---- failures ------------------------------------------------------------------------------------------------

    public CopyAbortedException Abort(int segment, byte asc, byte ascq, string detail, string? deviceId, long? deviceByteOffset,
        Exception? inner, SenseKey key = SenseKey.CopyAborted, bool endOfMedium = false)
    {
        var sense = new SenseData(key, asc, ascq)
        {
            CommandSpecific = (uint)(segment & 0xFFFF),
            Information = deviceByteOffset is long o && o is >= 0 and <= int.MaxValue ? o : null,
            EndOfMedium = endOfMedium,
        };
        string where = deviceByteOffset is long off ? $" (device {deviceId}, byte offset {off})" : "";
        return new CopyAbortedException(sense, $"segment {segment}: {detail}{where}", segment, SegmentsProcessed, TransferredBytes,
            deviceId, deviceByteOffset, inner);
    }

    public CopyAbortedException EndOfMedium(int segment, string detail, string deviceId, Exception? inner) =>
        Abort(segment, 0x00, 0x02, detail, deviceId, null, inner, endOfMedium: true);

    // ---- planning: everything that can be checked before data moves ----------------------------------------------

    public void Plan()
    {
        var segments = list.SegmentDescriptors;
        IStreamDevice? carryDevice = null;
        long carryBytes = 0;
        for (int k = 0; k < segments.Count; k++)
        {
            var seg = segments[k];
            if (seg.Cat && k == segments.Count - 1)
                throw ExtendedCopyException.IllegalRequest(0x26, 0x00, list.SegmentOffset(k) + 1, $"segment {k}: CAT is set on the last segment", bit: 0);
            var plan = PlanSegment(k, seg);
            // Residual destination data (CAT) can only go on to a segment that writes to the same stream.
            (IStreamDevice Dst, long Length, int Record, bool DstPad, bool SrcPad)? toStream = plan switch
            {
                BlockToStreamPlan p => (p.Destination, p.LengthBytes, p.RecordBytes, StreamPad(seg, destination: true), BlockPad(seg)),
                MemoryToStreamPlan p => (p.Destination, p.LengthBytes(), p.RecordBytes, StreamPad(seg, destination: true), false),
                _ => null,
            };
            if (carryDevice is not null && (toStream is null || !ReferenceEquals(toStream.Value.Dst, carryDevice)))
                throw Abort(k, 0x26, 0x0A, $"segment {k - 1} left {carryBytes} residual bytes (CAT) that segment {k} cannot take", carryDevice.DeviceId, null, null);
            if (toStream is { } ts)
            {
                if (carryBytes > 0 && TransferLength(seg) == 0 && !IsFixed(seg, destination: true))
                    throw Abort(k, 0x26, 0x00, $"STREAM DEVICE TRANSFER LENGTH is 0 but {carryBytes} residual bytes from segment {k - 1} are to be written", ts.Dst.DeviceId, null, null);
                long total = carryBytes + ts.Length;
                long rest = ts.Record == 0 ? 0 : total % ts.Record;
                bool fixedMode = IsFixed(seg, destination: true);
                EndAction end = rest == 0 ? EndAction.Exact
                    : seg.Cat ? EndAction.Carry
                    : ts.DstPad ? (fixedMode ? EndAction.PadRecord : EndAction.FlushShort)
                    : ts.SrcPad ? EndAction.Strip
                    : throw Abort(k, 0x26, 0x0A, $"{total} bytes are not a whole number of {ts.Record}-byte records and neither CAT nor PAD is set", ts.Dst.DeviceId, null, null);
                (carryDevice, carryBytes) = end == EndAction.Carry ? (ts.Dst, rest) : (null, 0);
                plan = plan switch
                {
                    BlockToStreamPlan p => p with { End = end },
                    MemoryToStreamPlan p => p with { End = end },
                    _ => plan,
                };
            }
            plans.Add(plan);
        }
    }

    bool StreamPad(SegmentDescriptor seg, bool destination) =>
        CscdOf(destination ? DestinationId(seg) : SourceId(seg))?.Parameters.Pad ?? false;

    bool BlockPad(SegmentDescriptor seg) => CscdOf(SourceId(seg))?.Parameters.Pad ?? false;

    bool IsFixed(SegmentDescriptor seg, bool destination) =>
        CscdOf(destination ? DestinationId(seg) : SourceId(seg))?.Parameters is StreamDeviceTypeParameters { Fixed: true };

    IdentificationCscdDescriptor? CscdOf(int? id) =>
        id is int i && i < list.CscdDescriptors.Count ? list.CscdDescriptors[i] as IdentificationCscdDescriptor : null;

    static int? SourceId(SegmentDescriptor s) => s switch
    {
        BlockToStreamSegment x => x.SourceCscdId,
        BlockOffsetToStreamSegment x => x.SourceCscdId,
        StreamToBlockSegment x => x.SourceCscdId,
        StreamToBlockOffsetSegment x => x.SourceCscdId,
        StreamToDiscardSegment x => x.SourceCscdId,
        BlockToBlockSegment x => x.SourceCscdId,
        BlockOffsetToBlockOffsetSegment x => x.SourceCscdId,
        _ => null,
    };

    static int TransferLength(SegmentDescriptor s) => s switch
    {
        BlockToStreamSegment x => x.StreamDeviceTransferLength,
        BlockOffsetToStreamSegment x => x.StreamDeviceTransferLength,
        InlineDataToStreamSegment x => x.StreamDeviceTransferLength,
        EmbeddedDataToStreamSegment x => x.StreamDeviceTransferLength,
        _ => 0,
    };

    static int? DestinationId(SegmentDescriptor s) => s switch
    {
        BlockToStreamSegment x => x.DestinationCscdId,
        BlockOffsetToStreamSegment x => x.DestinationCscdId,
        InlineDataToStreamSegment x => x.DestinationCscdId,
        EmbeddedDataToStreamSegment x => x.DestinationCscdId,
        _ => null,
    };

    SegmentPlan PlanSegment(int k, SegmentDescriptor seg)
    {
        switch (seg)
        {
            case BlockToStreamSegment s:
                {
                    var src = BlockCscd(k, s.SourceCscdId);
                    long offset = LbaBytes(k, src, s.BlockDeviceLogicalBlockAddress, 0);
                    long length = (long)s.BlockDeviceNumberOfBlocks * src.BlockSizeBytes;
                    CheckRange(k, src, offset, length);
                    var (dst, record, _) = StreamCscd(k, s.DestinationCscdId, s.StreamDeviceTransferLength, length > 0);
                    return new BlockToStreamPlan(k, seg, src, offset, length, dst, record, EndAction.Exact);
                }
            case BlockOffsetToStreamSegment s:
                {
                    var src = BlockCscd(k, s.SourceCscdId);
                    long offset = LbaBytes(k, src, s.BlockDeviceLogicalBlockAddress, s.BlockDeviceByteOffset);
                    CheckRange(k, src, offset, s.NumberOfBytes);
                    var (dst, record, _) = StreamCscd(k, s.DestinationCscdId, s.StreamDeviceTransferLength, s.NumberOfBytes > 0);
                    return new BlockToStreamPlan(k, seg, src, offset, s.NumberOfBytes, dst, record, EndAction.Exact);
                }
            case StreamToBlockSegment s:
                {
                    var dst = BlockCscd(k, s.DestinationCscdId, write: true);
                    long offset = LbaBytes(k, dst, s.BlockDeviceLogicalBlockAddress, 0);
                    long length = (long)s.BlockDeviceNumberOfBlocks * dst.BlockSizeBytes;
                    CheckRange(k, dst, offset, length);
                    var (src, record, isFixed) = StreamCscd(k, s.SourceCscdId, s.StreamDeviceTransferLength, length > 0);
                    return new StreamToBlockPlan(k, seg, src, record, isFixed, StreamPad(seg, destination: false), dst, offset, length);
                }
            case StreamToBlockOffsetSegment s:
                {
                    var dst = BlockCscd(k, s.DestinationCscdId, write: true);
                    long offset = LbaBytes(k, dst, s.BlockDeviceLogicalBlockAddress, s.BlockDeviceByteOffset);
                    CheckRange(k, dst, offset, s.NumberOfBytes);
                    var (src, record, isFixed) = StreamCscd(k, s.SourceCscdId, s.StreamDeviceTransferLength, s.NumberOfBytes > 0);
                    return new StreamToBlockPlan(k, seg, src, record, isFixed, StreamPad(seg, destination: false), dst, offset, s.NumberOfBytes);
                }
            case StreamToDiscardSegment s:
                {
                    var (src, record, isFixed) = StreamCscd(k, s.SourceCscdId, s.StreamDeviceTransferLength, s.NumberOfBytes > 0);
                    CheckSegmentLength(k, s.NumberOfBytes);
                    return new StreamToBlockPlan(k, seg, src, record, isFixed, StreamPad(seg, destination: false), null, 0, s.NumberOfBytes);
                }
            case BlockToBlockSegment s:
                {
                    var src = BlockCscd(k, s.SourceCscdId);
                    var dst = BlockCscd(k, s.DestinationCscdId, write: true);
                    long length = (long)s.BlockDeviceNumberOfBlocks * (s.Dc ? dst.BlockSizeBytes : src.BlockSizeBytes);
                    long srcOffset = LbaBytes(k, src, s.SourceLogicalBlockAddress, 0);
                    long dstOffset = LbaBytes(k, dst, s.DestinationLogicalBlockAddress, 0);
                    var end = EndAction.Exact;
                    if (length % dst.BlockSizeBytes != 0 || length % src.BlockSizeBytes != 0)
                    {
                        if (CscdOf(s.DestinationCscdId)!.Parameters.Pad) end = EndAction.PadBlock;
                        else if (CscdOf(s.SourceCscdId)!.Parameters.Pad) length -= length % dst.BlockSizeBytes;
                        else throw Abort(k, 0x26, 0x0A, $"{length} bytes are not whole blocks of both devices and neither PAD is set", dst.DeviceId, null, null);
                    }
                    CheckRange(k, src, srcOffset, length);
                    CheckRange(k, dst, dstOffset, end == EndAction.PadBlock ? (length + dst.BlockSizeBytes - 1) / dst.BlockSizeBytes * dst.BlockSizeBytes : length);
                    return new BlockToBlockPlan(k, seg, src, srcOffset, length, dst, dstOffset, end);
                }
            case BlockOffsetToBlockOffsetSegment s:
                {
                    var src = BlockCscd(k, s.SourceCscdId);
                    var dst = BlockCscd(k, s.DestinationCscdId, write: true);
                    long srcOffset = LbaBytes(k, src, s.SourceLogicalBlockAddress, s.SourceByteOffset);
                    long dstOffset = LbaBytes(k, dst, s.DestinationLogicalBlockAddress, s.DestinationByteOffset);
                    CheckRange(k, src, srcOffset, s.NumberOfBytes);
                    CheckRange(k, dst, dstOffset, s.NumberOfBytes);
                    return new BlockToBlockPlan(k, seg, src, srcOffset, s.NumberOfBytes, dst, dstOffset, EndAction.Exact);
                }
            case InlineDataToStreamSegment s:
                {
                    if ((ulong)s.InlineDataOffsetBytes + s.InlineDataNumberOfBytes > (ulong)list.InlineData.Length)
                        throw Abort(k, 0x26, 0x0B, $"inline data bytes {s.InlineDataOffsetBytes}..{(ulong)s.InlineDataOffsetBytes + s.InlineDataNumberOfBytes} are beyond the {list.InlineData.Length} bytes of inline data", null, null, null);
                    var (dst, record, _) = StreamCscd(k, s.DestinationCscdId, s.StreamDeviceTransferLength, s.InlineDataNumberOfBytes > 0);
                    return new MemoryToStreamPlan(k, seg, list.InlineData.Slice((int)s.InlineDataOffsetBytes, (int)s.InlineDataNumberOfBytes), dst, record, EndAction.Exact);
                }
            case EmbeddedDataToStreamSegment s:
                {
                    var (dst, record, _) = StreamCscd(k, s.DestinationCscdId, s.StreamDeviceTransferLength, s.Data.Length > 0);
                    return new MemoryToStreamPlan(k, seg, s.Data, dst, record, EndAction.Exact);
                }
            case VerifyCscdSegment s:
                return new VerifyPlan(k, seg, Resolve(k, s.SourceCscdId).Device);
            case WriteFilemarksSegment s:
                if (s.Wsmk) throw Abort(k, 0x26, 0x00, "setmarks (WSMK) are not supported", null, null, null);
                return new TapeOperationPlan(k, seg, TapeCscd(k, s.DestinationCscdId));
            case SpaceSegment s:
                if (s.Code is not (0 or 1 or 3)) throw Abort(k, 0x26, 0x00, $"SPACE code {s.Code} is not supported (0 blocks, 1 filemarks, 3 end-of-data)", null, null, null);
                return new TapeOperationPlan(k, seg, TapeCscd(k, s.DestinationCscdId));
            case LocateSegment s:
                return new TapeOperationPlan(k, seg, TapeCscd(k, s.DestinationCscdId));
            default:
                throw ExtendedCopyException.IllegalRequest(0x26, 0x09, list.SegmentOffset(k), $"segment descriptor type {seg.TypeCode:X2}h is not supported");
        }
    }

    (IdentificationCscdDescriptor Descriptor, RegisteredDevice Device) Resolve(int k, ushort id)
    {
        if (id >= list.CscdDescriptors.Count)
            throw Abort(k, 0x0D, 0x02, $"CSCD descriptor id {id:X4}h does not index the {list.CscdDescriptors.Count} CSCD descriptors", null, null, null);
        if (list.CscdDescriptors[id] is not IdentificationCscdDescriptor d)
            throw ExtendedCopyException.IllegalRequest(0x26, 0x07, ExtendedCopyParameterList.HeaderBytes + list.CscdDescriptors.Take(id).Sum(c => c.LengthBytes),
                $"CSCD descriptor type {list.CscdDescriptors[id].TypeCode:X2}h is not supported");
        var device = registry.Resolve(requester, d)
            ?? throw Abort(k, 0x0D, 0x02, $"CSCD {id} ({Convert.ToHexString(d.Designator)}) is not a device this requester may reach", null, null, null);
        return (d, device);
    }

    IBlockDevice BlockCscd(int k, ushort id, bool write = false)
    {
        var (d, device) = Resolve(k, id);
        if (!PeripheralDeviceType.IsBlock(d.PeripheralDeviceType) || device.Block is null)
            throw Abort(k, 0x26, 0x0C, $"CSCD {id} ({device.DeviceId}) is not a block device", device.DeviceId, null, null);
        var b = device.Block;
        var p = (BlockDeviceTypeParameters)d.Parameters;
        if (p.DiskBlockLengthBytes != b.BlockSizeBytes)
            throw Abort(k, 0x26, 0x00, $"CSCD {id} DISK BLOCK LENGTH {p.DiskBlockLengthBytes} differs from the device's {b.BlockSizeBytes}-byte blocks", b.DeviceId, null, null);
        if (write && b.IsReadOnly)
            throw Abort(k, 0x27, 0x00, $"{b.DeviceId} is read-only and cannot be a copy destination", b.DeviceId, null, null, SenseKey.DataProtect);
        maxBlockBytes = Math.Max(maxBlockBytes, b.BlockSizeBytes);
        return b;
    }

    IStreamDevice TapeCscd(int k, ushort id)
    {
        var (d, device) = Resolve(k, id);
        if (d.PeripheralDeviceType != PeripheralDeviceType.SequentialAccess || device.Stream is null)
            throw Abort(k, 0x26, 0x0C, $"CSCD {id} ({device.DeviceId}) is not a tape (PDT 01h)", device.DeviceId, null, null);
        return device.Stream;
    }

    (IStreamDevice Device, int RecordBytes, bool Fixed) StreamCscd(int k, ushort id, int transferLength, bool movesData)
    {
        var (d, device) = Resolve(k, id);
        if (!PeripheralDeviceType.IsStream(d.PeripheralDeviceType) || device.Stream is null)
            throw Abort(k, 0x26, 0x0C, $"CSCD {id} ({device.DeviceId}) is not a stream device", device.DeviceId, null, null);
        bool isFixed = false;
        long record = transferLength;
        if (d.Parameters is StreamDeviceTypeParameters sp)
        {
            if (sp.Fixed != (sp.StreamBlockLengthBytes != 0))
                throw Abort(k, 0x26, 0x00, $"CSCD {id}: FIXED={(sp.Fixed ? 1 : 0)} with STREAM BLOCK LENGTH {sp.StreamBlockLengthBytes} is not a valid mode", device.DeviceId, null, null);
            isFixed = sp.Fixed;
            if (isFixed) record = sp.StreamBlockLengthBytes;
        }
        if (movesData && (record <= 0 || (isFixed && transferLength == 0)))
            throw Abort(k, 0x26, 0x00, "STREAM DEVICE TRANSFER LENGTH is 0 for a segment that moves data", device.DeviceId, null, null);
        long transfer = isFixed ? (long)transferLength * record : record;
        if (transfer > limits.MaxStreamDeviceTransferSizeBytes || record > device.Stream.MaxRecordBytes)
            throw Abort(k, 0x26, 0x00, $"a {record}-byte record exceeds the maximum stream transfer size ({Math.Min(limits.MaxStreamDeviceTransferSizeBytes, device.Stream.MaxRecordBytes)} bytes)",
                device.DeviceId, null, null);
        int r = (int)Math.Max(record, 1);
        maxRecordBytes = Math.Max(maxRecordBytes, r);
        return (device.Stream, r, isFixed);
    }

    long LbaBytes(int k, IBlockDevice device, ulong lba, int byteOffset)
    {
        if (lba >= (ulong)device.BlockCount)
            throw Abort(k, 0x0D, 0x02, $"LBA {lba} is beyond the {device.BlockCount} blocks of {device.DeviceId}", device.DeviceId, null, null);
        return checked((long)lba * device.BlockSizeBytes + byteOffset);
    }

    void CheckRange(int k, IBlockDevice device, long offsetBytes, long lengthBytes)
    {
        CheckSegmentLength(k, lengthBytes);
        long capacity = device.BlockCount * device.BlockSizeBytes;
        if (offsetBytes + lengthBytes > capacity)
            throw Abort(k, 0x0D, 0x02, $"bytes {offsetBytes}..{offsetBytes + lengthBytes} are beyond the end of {device.DeviceId} ({capacity} bytes)", device.DeviceId, offsetBytes, null);
    }

    void CheckSegmentLength(int k, long lengthBytes)
    {
        if (lengthBytes > limits.MaxSegmentLengthBytes)
            throw Abort(k, 0x26, 0x00, $"segment moves {lengthBytes} bytes, more than the MAXIMUM SEGMENT LENGTH {limits.MaxSegmentLengthBytes}", null, null, null);
    }

    // ---- execution ---------------------------------------------------------------------------------------------------

    public async Task RunAsync(CancellationToken ct)
    {
        for (int i = 0; i < plans.Count;)
        {
            CheckNoOrphanedSourceResidual(plans[i]);
            switch (plans[i])
            {
                case BlockToStreamPlan first:
                    {
                        // Inline data to the same stream (an archive's headers between files' data) stays in the run: one
                        // read pipeline per run, not one per file.
                        int j = i + 1;
                        while (j < plans.Count && plans[j] is IToStreamPlan next && ReferenceEquals(next.Destination, first.Destination)) j++;
                        await RunToStreamAsync(plans.GetRange(i, j - i), ct);
                        i = j;
                        continue;
                    }
                case BlockToBlockPlan overlapping when OverlapsForward(overlapping):
                    await RunOverlappingBlockToBlockAsync(overlapping, ct);
                    break;
                case BlockToBlockPlan first:
                    {
                        // Segments run in order: reads ahead must never see a range an earlier segment of the run has yet
                        // to write, so a run stops at a segment reading the device the run writes.
                        int j = i + 1;
                        while (j < plans.Count && plans[j] is BlockToBlockPlan next && ReferenceEquals(next.Destination, first.Destination)
                               && !ReferenceEquals(next.Source, first.Destination) && !OverlapsForward(next))
                            j++;
                        await RunBlockToBlockAsync(plans.GetRange(i, j - i).Cast<BlockToBlockPlan>().ToList(), ct);
                        i = j;
                        continue;
                    }
                case MemoryToStreamPlan p:
                    {
                        var w = Writer(p.Destination);
                        w.SetRecordBytes(p.RecordBytes);
                        if (p.Hold) Held.Append(p.Data.Span);
                        await w.AppendAsync(p.Data, p.Index, ct);
                        await EndStreamSegmentAsync(w, p.End, p.Index, ct);
                        break;
                    }
                case StreamToBlockPlan p:
                    await RunStreamToBlockAsync(p, ct);
                    Complete(p.Index);
                    break;
                case VerifyPlan p:
                    Complete(p.Index);
                    break;
                case TapeOperationPlan p:
                    await RunTapeOperationAsync(p, ct);
                    Complete(p.Index);
                    break;
            }
            i++;
        }
        if (!options.FlushAtListEnd) return;
        foreach (var w in writers.Values)
        {
            try { await w.Device.FlushAsync(ct); }
            catch (IOException e) { throw Abort(plans.Count - 1, 0x0D, 0x01, $"flush of {w.Device.DeviceId} failed: {e.Message}", w.Device.DeviceId, null, e); }
        }
        foreach (var b in blockWriters.Keys)
        {
            try { await b.FlushAsync(ct); }
            catch (IOException e) { throw Abort(plans.Count - 1, 0x0D, 0x01, $"flush of {b.DeviceId} failed: {e.Message}", b.DeviceId, null, e); }
        }
    }

    void Complete(int index) => Volatile.Write(ref done[index], true);

    void CheckNoOrphanedSourceResidual(SegmentPlan next)
    {
        foreach (var r in readers.Values)
        {
            if (r.LeftoverBytes > 0 && !(next is StreamToBlockPlan p && ReferenceEquals(p.Source, r.Device)))
                throw Abort(next.Index, 0x26, 0x0A, $"{r.LeftoverBytes} residual bytes read from {r.Device.DeviceId} (CAT) are not taken by segment {next.Index}", r.Device.DeviceId, null, null);
        }
    }

    StreamRecordWriter Writer(IStreamDevice d)
    {
        if (!writers.TryGetValue(d, out var w)) writers[d] = w = new StreamRecordWriter(d, maxRecordBytes, this);
        return w;
    }

    StreamRecordReader Reader(IStreamDevice d)
    {
        if (!readers.TryGetValue(d, out var r)) readers[d] = r = new StreamRecordReader(d, maxRecordBytes, this);
        return r;
    }

    BlockByteWriter BlockWriter(IBlockDevice d)
    {
        if (!blockWriters.TryGetValue(d, out var w)) blockWriters[d] = w = new BlockByteWriter(d);
        return w;
    }

    async ValueTask EndStreamSegmentAsync(StreamRecordWriter w, EndAction end, int index, CancellationToken ct)
    {
        await w.EndSegmentAsync(end, index, ct);
        if (end == EndAction.Carry && w.PendingBytes > 0) deferred[index] = (w, w.AcceptedBytes);
        else Complete(index);
    }

    int ChunkBytes(int recordBytes)
    {
        int c = options.ReadChunkBytes;
        // Chunks that are whole records let records be written straight from the read buffers.
        return recordBytes >= c ? recordBytes : c / recordBytes * recordBytes;
    }

    /// <summary>Consecutive block→stream and inline-data→stream segments to one stream device: one read pipeline over all
    /// the block ranges, so adjacent ranges are read together, with the inline data written in its place between them;
    /// records come out exactly as if each segment ran alone.</summary>
    async Task RunToStreamAsync(List<SegmentPlan> segments, CancellationToken ct)
    {
        var run = segments.Cast<IToStreamPlan>().ToList();
        var w = Writer(run[0].Destination);
        int chunkBytes = ChunkBytes(run.Max(p => p.RecordBytes));
        int seg = 0;
        long segStart = 0, pos = 0;
        w.SetRecordBytes(run[0].RecordBytes);

        // Writes the inline segments reached and ends the segments whose bytes are all written.
        async ValueTask AdvanceAsync(CancellationToken token)
        {
            while (seg < run.Count)
            {
                if (run[seg] is MemoryToStreamPlan m && pos == segStart)
                {
                    if (m.Hold) Held.Append(m.Data.Span);
                    await w.AppendAsync(m.Data, m.Index, token);
                    pos += m.Data.Length;
                }
                if (pos != segStart + run[seg].LengthBytes) return;
                await EndStreamSegmentAsync(w, run[seg].End, run[seg].Index, token);
                segStart += run[seg].LengthBytes;
                seg++;
                if (seg < run.Count) w.SetRecordBytes(run[seg].RecordBytes);
            }
        }

        async ValueTask ConsumeAsync(ReadChunk chunk, ReadOnlyMemory<byte> data, CancellationToken token)
        {
            while (!data.IsEmpty)
            {
                await AdvanceAsync(token);
                var p = (BlockToStreamPlan)run[seg];
                int n = (int)Math.Min(data.Length, segStart + p.LengthBytes - pos);
                if (p.Hold) Held.Append(data.Span[..n]);
                await w.AppendAsync(data[..n], p.Index, token);
                pos += n;
                data = data[n..];
            }
        }

        var pieces = run.OfType<BlockToStreamPlan>().Select(p => new ReadPiece(p.Source, p.SourceOffsetBytes, p.LengthBytes));
        await RunPipelineAsync(segments, pieces, chunkBytes, ConsumeAsync, ct);
        await AdvanceAsync(ct);
    }

    async Task RunBlockToBlockAsync(List<BlockToBlockPlan> run, CancellationToken ct)
    {
        var bw = BlockWriter(run[0].Destination);
        int seg = 0;
        long segStart = 0, pos = 0;

        async ValueTask EndFinishedAsync()
        {
            while (seg < run.Count && pos == segStart + run[seg].LengthBytes)
            {
                var p = run[seg];
                if (p.End == EndAction.PadBlock)
                {
                    long at = p.DestinationOffsetBytes + p.LengthBytes;
                    await WriteBlocksAsync(p, () => bw.PadToBlockAsync(at, ct), at);
                    AddTransferred(p.Destination.BlockSizeBytes - at % p.Destination.BlockSizeBytes);
                }
                Complete(p.Index);
                segStart += p.LengthBytes;
                seg++;
            }
        }

        async ValueTask ConsumeAsync(ReadChunk chunk, ReadOnlyMemory<byte> data, CancellationToken token)
        {
            while (!data.IsEmpty)
            {
                await EndFinishedAsync();
                var p = run[seg];
                int n = (int)Math.Min(data.Length, segStart + p.LengthBytes - pos);
                long at = p.DestinationOffsetBytes + (pos - segStart);
                var slice = data[..n];
                if (p.Hold) Held.Append(slice.Span);
                await WriteBlocksAsync(p, () => bw.WriteAsync(at, slice, token), at);
                AddTransferred(n);
                pos += n;
                data = data[n..];
            }
        }

        int chunkBytes = options.ReadChunkBytes / maxBlockBytes * maxBlockBytes;
        var pieces = run.Select(p => new ReadPiece(p.Source, p.SourceOffsetBytes, p.LengthBytes));
        await RunPipelineAsync(run, pieces, Math.Max(chunkBytes, maxBlockBytes), ConsumeAsync, ct);
        await EndFinishedAsync();
    }

    /// <summary>Source and destination on one device, the destination starting inside the source range: a forward copy
    /// would overwrite source bytes before reading them.</summary>
    static bool OverlapsForward(BlockToBlockPlan p) =>
        ReferenceEquals(p.Source, p.Destination) && p.DestinationOffsetBytes > p.SourceOffsetBytes
        && p.DestinationOffsetBytes < p.SourceOffsetBytes + p.LengthBytes;

    /// <summary>Copies an overlapping range from its end backwards (memmove order), one chunk at a time.</summary>
    async Task RunOverlappingBlockToBlockAsync(BlockToBlockPlan p, CancellationToken ct)
    {
        var bw = BlockWriter(p.Destination);
        int bs = p.Source.BlockSizeBytes;
        int chunk = Math.Max(bs, (int)Math.Min(p.LengthBytes, 1 << 20) / bs * bs);
        var buffer = new byte[chunk + 2 * bs];
        if (p.Hold)
        {
            // Held data is the source bytes in order, so take it before the backwards copy changes them.
            int n = (int)Math.Min(Math.Min(p.LengthBytes, chunk), limits.HeldDataLimitBytes + 1L);
            long from = p.SourceOffsetBytes, alignedFrom = from - from % bs;
            int alignedLength = (int)((from + n + bs - 1) / bs * bs - alignedFrom);
            await p.Source.ReadAsync(new Core.Units.Lba(alignedFrom / bs), buffer.AsMemory(0, alignedLength), ct);
            Held.Append(buffer.AsSpan((int)(from - alignedFrom), n));
        }
        for (long end = p.LengthBytes; end > 0;)
        {
            long start = Math.Max(0, end - chunk);
            int n = (int)(end - start);
            long from = p.SourceOffsetBytes + start;
            long alignedFrom = from - from % bs;
            int alignedLength = (int)((from + n + bs - 1) / bs * bs - alignedFrom);
            try
            {
                await p.Source.ReadAsync(new Core.Units.Lba(alignedFrom / bs), buffer.AsMemory(0, alignedLength), ct);
            }
            catch (IOException e)
            {
                throw Abort(p.Index, 0x0D, 0x01, $"read of {p.Source.DeviceId} failed: {e.Message}", p.Source.DeviceId, from, e);
            }
            var data = buffer.AsMemory((int)(from - alignedFrom), n);
            long at = p.DestinationOffsetBytes + start;
            await WriteBlocksAsync(p, () => bw.WriteAsync(at, data, ct), at);
            AddTransferred(n);
            end = start;
        }
        if (p.End == EndAction.PadBlock)
        {
            long at = p.DestinationOffsetBytes + p.LengthBytes;
            await WriteBlocksAsync(p, () => bw.PadToBlockAsync(at, ct), at);
            AddTransferred(p.Destination.BlockSizeBytes - at % p.Destination.BlockSizeBytes);
        }
        Complete(p.Index);
    }

    async ValueTask WriteBlocksAsync(SegmentPlan p, Func<ValueTask> write, long at)
    {
        var dst = p switch { BlockToBlockPlan b => b.Destination, StreamToBlockPlan s => s.Destination!, _ => throw new InvalidOperationException() };
        try
        {
            await write();
        }
        catch (InvalidOperationException e) when (dst.IsReadOnly)
        {
            throw Abort(p.Index, 0x27, 0x00, $"{dst.DeviceId} is read-only", dst.DeviceId, at, e, SenseKey.DataProtect);
        }
        catch (IOException e)
        {
            throw Abort(p.Index, 0x0D, 0x01, $"write to {dst.DeviceId} failed: {e.Message}", dst.DeviceId, at, e);
        }
    }

    /// <summary>Runs the read pipeline for a run of segments and turns a failed read into COPY ABORTED naming the segment whose
    /// bytes could not be read and the device byte offset of the first unreadable block.</summary>
    async Task RunPipelineAsync<TPlan>(List<TPlan> run, IEnumerable<ReadPiece> pieces, int chunkBytes,
        Func<ReadChunk, ReadOnlyMemory<byte>, CancellationToken, ValueTask> consume, CancellationToken ct) where TPlan : SegmentPlan
    {
        int bufferBytes = BlockReadPipeline.BufferBytes(chunkBytes, maxBlockBytes);
        try
        {
            var chunks = options.ReadSmallPiecesInDeviceOrder ? BlockReadPipeline.Plan(pieces, chunkBytes, bufferBytes) : BlockReadPipeline.Chunks(pieces, chunkBytes);
            await BlockReadPipeline.RunAsync(chunks, bufferBytes, Math.Max(1, options.ReadsInFlight), buffers, consume, ct);
        }
        catch (ChunkReadException e)
        {
            long offset = await BlockReadPipeline.LocateFailureAsync(e.Chunk, ct);
            int segment = run.Select(p => p switch
            {
                BlockToStreamPlan b when ReferenceEquals(b.Source, e.Chunk.Device) && offset >= b.SourceOffsetBytes && offset < b.SourceOffsetBytes + b.LengthBytes => b.Index,
                BlockToBlockPlan b when ReferenceEquals(b.Source, e.Chunk.Device) && offset >= b.SourceOffsetBytes && offset < b.SourceOffsetBytes + b.LengthBytes => b.Index,
                _ => -1,
            }).FirstOrDefault(i => i >= 0, run[0].Index);
            throw Abort(segment, 0x0D, 0x01, $"read of {e.Chunk.Device.DeviceId} failed: {e.InnerException?.Message}", e.Chunk.Device.DeviceId, offset, e.InnerException);
        }
    }

    const int PooledStageMinBytes = 256 * 1024;

    async Task RunStreamToBlockAsync(StreamToBlockPlan p, CancellationToken ct)
    {
        var reader = Reader(p.Source);
        if (p.Destination is null)
        {
            await reader.ReadAsync(p, data =>
            {
                if (p.Hold) Held.Append(data.Span);
                return ValueTask.CompletedTask;
            }, ct);
            return;
        }
        var bw = BlockWriter(p.Destination);
        int bs = p.Destination.BlockSizeBytes;
        // Stage whole blocks so the block device sees large aligned writes rather than one write per record.
        int stageBytes = Math.Max(bs, options.ReadChunkBytes / bs * bs);
        // Segments beyond a few records stage through a pooled buffer: a volume restore is a thousand segments or more, and
        // fresh staging arrays would cost as much memory traffic as the data itself.
        // Staged lazily: a segment whose bytes arrive in one piece of whole blocks (a small file inside one record) is
        // written straight from the record, with no stage and no copy.
        ReadBuffer? pooled = null;
        Memory<byte> stage = default;
        int staged = 0;
        long at = p.DestinationOffsetBytes;
        long received = 0;

        async ValueTask WriteAsync(ReadOnlyMemory<byte> data)
        {
            long where = at;
            await WriteBlocksAsync(p, () => bw.WriteAsync(where, data, ct), where);
            AddTransferred(data.Length);
            at += data.Length;
        }

        async ValueTask FlushStageAsync()
        {
            if (staged == 0) return;
            await WriteAsync(stage[..staged]);
            staged = 0;
        }

        await reader.ReadAsync(p, async data =>
        {
            if (p.Hold) Held.Append(data.Span);
            received += data.Length;
            if (staged == 0 && received == p.LengthBytes && data.Length % bs == 0)
            {
                await WriteAsync(data);
                return;
            }
            if (stage.IsEmpty)
            {
                pooled = p.LengthBytes > PooledStageMinBytes ? buffers.Rent(stageBytes) : null;
                stage = pooled is not null ? pooled.Memory[..(int)Math.Min(stageBytes, p.LengthBytes)] : new byte[(int)Math.Max(Math.Min(stageBytes, p.LengthBytes), 1)];
            }
            while (!data.IsEmpty)
            {
                int n = Math.Min(stage.Length - staged, data.Length);
                data.Span[..n].CopyTo(stage.Span[staged..]);
                staged += n;
                data = data[n..];
                if (staged == stage.Length) await FlushStageAsync();
            }
        }, ct);
        await FlushStageAsync();
        if (pooled is not null) buffers.Return(pooled);     // after a failure it is simply left to the GC
    }

    async Task RunTapeOperationAsync(TapeOperationPlan p, CancellationToken ct)
    {
        var tape = p.Device;
        try
        {
            switch (p.Descriptor)
            {
                case WriteFilemarksSegment s:
                    if (writers.TryGetValue(tape, out var w) && w.PendingBytes > 0)
                        throw Abort(p.Index, 0x26, 0x0A, "residual data is pending for this tape", tape.DeviceId, null, null);
                    await tape.WriteFilemarksAsync(s.TransferLength, ct);
                    break;
                case SpaceSegment s:
                    var unit = s.Code switch { 0 => SpaceUnit.Records, 1 => SpaceUnit.Filemarks, _ => SpaceUnit.EndOfData };
                    long spaced = await tape.SpaceAsync(unit, s.Count, ct);
                    if (unit != SpaceUnit.EndOfData && spaced != s.Count)
                        throw Abort(p.Index, 0x0D, 0x04, $"spaced over {spaced} of {s.Count} {unit} on {tape.DeviceId}", tape.DeviceId, null, null);
                    break;
                case LocateSegment s:
                    await LocateObjectAsync(p, tape, s.BlockAddress, ct);
                    break;
            }
        }
        catch (EndOfMediumException e)
        {
            throw EndOfMedium(p.Index, $"end of medium on {tape.DeviceId}: {e.Message}", tape.DeviceId, e);
        }
        catch (IOException e) when (e is not CopyAbortedException)
        {
            throw Abort(p.Index, 0x0D, 0x01, $"{p.Descriptor.GetType().Name} on {tape.DeviceId} failed: {e.Message}", tape.DeviceId, null, e);
        }
    }

    /// <summary>LOCATE to a logical object identifier (records and filemarks counted from the beginning of the partition),
    /// built from REWIND and SPACE because the stream interface addresses positions by file and record.</summary>
    async Task LocateObjectAsync(TapeOperationPlan p, IStreamDevice tape, uint objectId, CancellationToken ct)
    {
        await tape.RewindAsync(ct);
        long rest = objectId;
        while (rest > 0)
        {
            long fileBefore = tape.Position.FileNumber;
            long n = await tape.SpaceAsync(SpaceUnit.Records, rest, ct);
            rest -= n;
            if (rest == 0) break;
            // Spacing records ends at a filemark: some devices stop before it, others (as SSC does) pass it.
            if (tape.Position.FileNumber == fileBefore && await tape.SpaceAsync(SpaceUnit.Filemarks, 1, ct) != 1)
                throw Abort(p.Index, 0x0D, 0x04, $"logical object {objectId} is beyond the end of data on {tape.DeviceId}", tape.DeviceId, null, null);
            rest--;                                               // the filemark is one logical object
        }
    }
}

internal static class MemoryToStreamPlanExtensions
{
    public static long LengthBytes(this MemoryToStreamPlan p) => p.Data.Length;
}
