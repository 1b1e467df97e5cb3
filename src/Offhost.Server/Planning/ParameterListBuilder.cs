using Offhost.Scsi.ExtendedCopy;

namespace Offhost.Server.Planning;

/// <summary>The two devices of a backup copy: the source LUN and the tape, by NAA designator.</summary>
/// <param name="SourceNaa">NAA designator of the source block device (VPD 83h).</param>
/// <param name="SourceBlockSizeBytes">Its logical block size.</param>
/// <param name="TapeNaa">NAA designator of the stream device.</param>
/// <param name="RecordBytes">Tape record size: every record but the last of a list is this long (variable mode).</param>
public sealed record CopyTargets(byte[] SourceNaa, int SourceBlockSizeBytes, byte[] TapeNaa, int RecordBytes);

/// <summary>
/// Packs copy steps into EXTENDED COPY (LID1) parameter lists within a copy manager's operating parameters.
/// Each list names the source as CSCD 0 (block, PDT 00h) and the tape as CSCD 1 (stream, variable mode).
/// Every segment but a list's last has CAT=1, so records are filled across segment boundaries and only the
/// last record of a list may be short. Zero-length steps are dropped.
/// </summary>
public sealed class ParameterListBuilder(CopyTargets targets, OperatingParameters limits)
{
    const ushort SourceCscd = 0, TapeCscd = 1;
    const int ListOverheadBytes = ExtendedCopyParameterList.HeaderBytes + 64;
    byte nextListId = 1;

    public IEnumerable<ExtendedCopyParameterList> Build(IEnumerable<CopyOp> ops)
    {
        var segments = new List<SegmentDescriptor>();
        var inline = new MemoryStream();
        int descriptorBytes = 0;
        long maxInline = Math.Min(limits.MaxInlineDataLengthBytes, 1 << 20);
        int maxSegments = Math.Min((int)limits.MaxSegmentDescriptorCount, 4096);
        long maxDescriptorBytes = limits.MaxDescriptorListLengthBytes - 64;

        foreach (var op in ops)
        {
            foreach (var seg in Split(op))
            {
                if (seg.Segment is null && seg.Inline.Length == 0) continue;
                bool full = segments.Count + 1 > maxSegments
                    || descriptorBytes + 28 > maxDescriptorBytes
                    || inline.Length + seg.Inline.Length > maxInline;
                if (full && segments.Count > 0)
                {
                    yield return Finish(segments, inline);
                    segments = [];
                    inline = new MemoryStream();
                    descriptorBytes = 0;
                }
                SegmentDescriptor descriptor = seg.Segment ?? new InlineDataToStreamSegment(TapeCscd, targets.RecordBytes, (uint)inline.Length, (uint)seg.Inline.Length);
                if (seg.Inline.Length > 0) inline.Write(seg.Inline.Span);
                segments.Add(descriptor);
                descriptorBytes += descriptor.LengthBytes;
            }
        }
        if (segments.Count > 0) yield return Finish(segments, inline);
    }

    ExtendedCopyParameterList Finish(List<SegmentDescriptor> segments, MemoryStream inline)
    {
        for (int i = 0; i < segments.Count; i++) segments[i] = WithCat(segments[i], i < segments.Count - 1);
        byte id = nextListId;
        nextListId = (byte)(nextListId == 255 ? 1 : nextListId + 1);
        return new ExtendedCopyParameterList(id, Cscds(), segments.ToArray())
        {
            ListIdUsage = ListIdUsage.Hold,
            Priority = 1,
            InlineData = inline.ToArray(),
        };
    }

    /// <summary>CSCD 0 (source block device) and CSCD 1 (tape, variable mode).</summary>
    public CscdDescriptor[] Cscds() =>
    [
        IdentificationCscdDescriptor.ForNaa(targets.SourceNaa, PeripheralDeviceType.DirectAccessBlock, new BlockDeviceTypeParameters(false, targets.SourceBlockSizeBytes)),
        IdentificationCscdDescriptor.ForNaa(targets.TapeNaa, PeripheralDeviceType.SequentialAccess, new StreamDeviceTypeParameters(false, false, 0)),
    ];

    static SegmentDescriptor WithCat(SegmentDescriptor s, bool cat) => s switch
    {
        BlockToStreamSegment b => b with { Cat = cat },
        BlockOffsetToStreamSegment b => b with { Cat = cat },
        InlineDataToStreamSegment i => i with { Cat = cat },
        _ => s,
    };

    readonly record struct Piece(SegmentDescriptor? Segment, ReadOnlyMemory<byte> Inline);

    IEnumerable<Piece> Split(CopyOp op)
    {
        switch (op)
        {
            case InlineOp i:
                const int MaxInlinePiece = 256 * 1024;
                for (int at = 0; at < i.Data.Length; at += MaxInlinePiece)
                    yield return new Piece(null, i.Data.Slice(at, Math.Min(MaxInlinePiece, i.Data.Length - at)));
                break;
            case BlocksOp b:
                long maxBlocks = Math.Min(ushort.MaxValue, limits.MaxSegmentLengthBytes / targets.SourceBlockSizeBytes);
                for (long lba = b.Lba, left = b.Blocks; left > 0;)
                {
                    long n = Math.Min(left, maxBlocks);
                    yield return new Piece(new BlockToStreamSegment(SourceCscd, TapeCscd, targets.RecordBytes, (ushort)n, (ulong)lba), default);
                    lba += n;
                    left -= n;
                }
                break;
            case ByteRangeOp r:
                long maxBytes = Math.Min(uint.MaxValue, limits.MaxSegmentLengthBytes);
                long device = r.Lba * targets.SourceBlockSizeBytes + r.ByteOffsetInBlock;
                for (long left = r.LengthBytes; left > 0;)
                {
                    long n = Math.Min(left, maxBytes);
                    yield return new Piece(new BlockOffsetToStreamSegment(SourceCscd, TapeCscd, targets.RecordBytes, (uint)n,
                        (ulong)(device / targets.SourceBlockSizeBytes), (ushort)(device % targets.SourceBlockSizeBytes)), default);
                    device += n;
                    left -= n;
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(op), op.GetType().Name);
        }
    }
}
