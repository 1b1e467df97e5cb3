using Offhost.Scsi.ExtendedCopy;

namespace Offhost.Server.Planning;

/// <summary>The two devices of a backup copy: the source LUN and the tape, by NAA designator.</summary>
/// <param name="SourceNaa">NAA designator of the source block device (VPD 83h).</param>
/// <param name="SourceBlockSizeBytes">Its logical block size.</param>
/// <param name="TapeNaa">NAA designator of the stream device.</param>
/// <param name="RecordBytes">Tape record size (variable mode), a multiple of 512.</param>
public sealed record CopyTargets(byte[] SourceNaa, int SourceBlockSizeBytes, byte[] TapeNaa, int RecordBytes);

/// <summary>
/// Packs copy steps into EXTENDED COPY (LID1) parameter lists within a copy manager's operating parameters.
/// Each list names the source as CSCD 0 (block, PDT 00h) and the tape as CSCD 1 (stream, variable mode).
/// Every segment but a list's last has CAT=1, so records are filled across segment boundaries, and every
/// list but the last ends exactly on a record boundary (the step crossing it is split), so every record of
/// the archive is <see cref="CopyTargets.RecordBytes"/> long except the very last. A restore can then split
/// its own lists at any multiple of the record size.
/// </summary>
public sealed class ParameterListBuilder(CopyTargets targets, OperatingParameters limits)
{
    const ushort SourceCscd = 0, TapeCscd = 1;
    const int MaxInlinePieceBytes = 256 * 1024;
    byte nextListId = 1;

    int MaxSegments => Math.Min((int)limits.MaxSegmentDescriptorCount, 4096);
    long MaxDescriptorBytes => limits.MaxDescriptorListLengthBytes - 64;
    long MaxInline => Math.Min(limits.MaxInlineDataLengthBytes, 32L << 20);

    public IEnumerable<ExtendedCopyParameterList> Build(IEnumerable<CopyOp> ops)
    {
        if (targets.RecordBytes % 512 != 0 || targets.RecordBytes <= 0)
            throw new ArgumentException($"record size {targets.RecordBytes} is not a positive multiple of 512");
        var list = new ListUnderConstruction();
        // Soft limits leave room to extend a list to the next record boundary (at most one record of steps).
        int softSegments = MaxSegments / 4;
        long softInline = MaxInline - 2L * targets.RecordBytes - MaxInlinePieceBytes;
        if (softInline < MaxInline / 4)
            throw new ArgumentException($"a {targets.RecordBytes}-byte record size leaves too little of the copy manager's {MaxInline}-byte inline data limit; use smaller records");
        long softDescriptorBytes = MaxDescriptorBytes * 3 / 4;

        foreach (var op in ops)
        {
            var queue = new Queue<CopyOp>(Atomic(op));
            while (queue.Count > 0)
            {
                var piece = queue.Dequeue();
                if (piece.StreamBytes == 0) continue;
                bool soft = list.Segments.Count >= softSegments || list.Inline.Length >= softInline || list.DescriptorBytes >= softDescriptorBytes;
                if (soft)
                {
                    long toBoundary = (targets.RecordBytes - list.StreamBytes % targets.RecordBytes) % targets.RecordBytes;
                    if (toBoundary == 0)
                    {
                        yield return Finish(list);
                        list = new ListUnderConstruction();
                    }
                    else if (piece.StreamBytes > toBoundary)
                    {
                        var (first, rest) = SplitAt(piece, toBoundary);
                        Add(list, first);
                        yield return Finish(list);
                        list = new ListUnderConstruction();
                        foreach (var r in rest) Add(list, r);
                        continue;
                    }
                }
                Add(list, piece);
            }
        }
        if (list.Segments.Count > 0) yield return Finish(list);
    }

    sealed class ListUnderConstruction
    {
        public List<SegmentDescriptor> Segments { get; } = [];
        public MemoryStream Inline { get; } = new();
        public int DescriptorBytes { get; set; }
        public long StreamBytes { get; set; }
    }

    void Add(ListUnderConstruction list, CopyOp piece)
    {
        // Consecutive inline steps (a header, resident data, padding) share one segment: their bytes are adjacent in the inline data.
        if (piece is InlineOp more && list.Segments.Count > 0 && list.Segments[^1] is InlineDataToStreamSegment last
            && last.InlineDataOffsetBytes + last.InlineDataNumberOfBytes == list.Inline.Length
            && last.InlineDataNumberOfBytes + more.Data.Length <= MaxInlinePieceBytes)
        {
            list.Inline.Write(more.Data.Span);
            list.Segments[^1] = last with { InlineDataNumberOfBytes = last.InlineDataNumberOfBytes + (uint)more.Data.Length };
            list.StreamBytes += more.StreamBytes;
            return;
        }
        SegmentDescriptor d = piece switch
        {
            InlineOp i => new InlineDataToStreamSegment(TapeCscd, targets.RecordBytes, (uint)list.Inline.Length, (uint)i.Data.Length),
            BlocksOp b => new BlockToStreamSegment(SourceCscd, TapeCscd, targets.RecordBytes, checked((ushort)b.Blocks), (ulong)b.Lba),
            ByteRangeOp r => new BlockOffsetToStreamSegment(SourceCscd, TapeCscd, targets.RecordBytes, checked((uint)r.LengthBytes), (ulong)r.Lba, checked((ushort)r.ByteOffsetInBlock)),
            _ => throw new ArgumentOutOfRangeException(nameof(piece), piece.GetType().Name),
        };
        if (piece is InlineOp inline) list.Inline.Write(inline.Data.Span);
        list.Segments.Add(d);
        list.DescriptorBytes += d.LengthBytes;
        list.StreamBytes += piece.StreamBytes;
    }

    ExtendedCopyParameterList Finish(ListUnderConstruction list)
    {
        var segments = list.Segments;
        for (int i = 0; i < segments.Count; i++) segments[i] = WithCat(segments[i], i < segments.Count - 1);
        byte id = nextListId;
        nextListId = (byte)(nextListId == 255 ? 1 : nextListId + 1);
        return new ExtendedCopyParameterList(id, Cscds(), segments.ToArray())
        {
            ListIdUsage = ListIdUsage.Hold,
            Priority = 1,
            InlineData = list.Inline.ToArray(),
        };
    }

    /// <summary>CSCD 0 (source block device) and CSCD 1 (tape, variable mode).</summary>
    public CscdDescriptor[] Cscds() =>
    [
        IdentificationCscdDescriptor.ForNaa(targets.SourceNaa, PeripheralDeviceType.DirectAccessBlock, new BlockDeviceTypeParameters(false, targets.SourceBlockSizeBytes)),
        // PAD on the tape: the residual of the last list is written as one shorter final record (variable mode).
        IdentificationCscdDescriptor.ForNaa(targets.TapeNaa, PeripheralDeviceType.SequentialAccess, new StreamDeviceTypeParameters(true, false, 0)),
    ];

    static SegmentDescriptor WithCat(SegmentDescriptor s, bool cat) => s switch
    {
        BlockToStreamSegment b => b with { Cat = cat },
        BlockOffsetToStreamSegment b => b with { Cat = cat },
        InlineDataToStreamSegment i => i with { Cat = cat },
        _ => s,
    };

    /// <summary>Splits a step into pieces that each fit one segment descriptor.</summary>
    IEnumerable<CopyOp> Atomic(CopyOp op)
    {
        int bs = targets.SourceBlockSizeBytes;
        switch (op)
        {
            case InlineOp i:
                for (int at = 0; at < i.Data.Length; at += MaxInlinePieceBytes)
                    yield return new InlineOp(i.Data.Slice(at, Math.Min(MaxInlinePieceBytes, i.Data.Length - at)));
                break;
            case BlocksOp b:
                long maxBlocks = Math.Min(ushort.MaxValue, limits.MaxSegmentLengthBytes / bs);
                for (long lba = b.Lba, left = b.Blocks; left > 0;)
                {
                    long n = Math.Min(left, maxBlocks);
                    yield return new BlocksOp(lba, n, bs);
                    lba += n;
                    left -= n;
                }
                break;
            case ByteRangeOp r:
                long maxBytes = Math.Min(uint.MaxValue, limits.MaxSegmentLengthBytes);
                long device = r.Lba * bs + r.ByteOffsetInBlock;
                for (long left = r.LengthBytes; left > 0;)
                {
                    long n = Math.Min(left, maxBytes);
                    yield return new ByteRangeOp(device / bs, (int)(device % bs), n);
                    device += n;
                    left -= n;
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(op), op.GetType().Name);
        }
    }

    /// <summary>Splits a piece after <paramref name="bytes"/> stream bytes (0 &lt; bytes &lt; piece length).</summary>
    (CopyOp First, IEnumerable<CopyOp> Remainder) SplitAt(CopyOp piece, long bytes)
    {
        int bs = targets.SourceBlockSizeBytes;
        switch (piece)
        {
            case InlineOp i:
                return (new InlineOp(i.Data[..(int)bytes]), [new InlineOp(i.Data[(int)bytes..])]);
            case BlocksOp b when bytes % bs == 0:
                return (b with { Blocks = bytes / bs }, [b with { Lba = b.Lba + bytes / bs, Blocks = b.Blocks - bytes / bs }]);
            case BlocksOp b:
                return SplitAt(new ByteRangeOp(b.Lba, 0, b.Blocks * bs), bytes);
            case ByteRangeOp r:
                long second = r.Lba * bs + r.ByteOffsetInBlock + bytes;
                return (r with { LengthBytes = bytes }, [new ByteRangeOp(second / bs, (int)(second % bs), r.LengthBytes - bytes)]);
            default:
                throw new ArgumentOutOfRangeException(nameof(piece), piece.GetType().Name);
        }
    }
}
