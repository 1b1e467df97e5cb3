using System.Buffers.Binary;
using Offhost.Scsi.Sense;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>
/// The parameter list (Data-Out) of EXTENDED COPY (LID1): a 16-byte header, CSCD descriptors, segment descriptors and
/// inline data (SPC-4 6.4.3). <see cref="Read"/> validates in the order copy managers are expected to (docs/formats/extended-copy.md)
/// and reports the first problem as <see cref="ExtendedCopyException"/> with ILLEGAL REQUEST sense and a field pointer.
/// Checks that need devices (CSCD indexes, capacities, device classes) belong to the copy manager. Immutable.
/// </summary>
public sealed record ExtendedCopyParameterList(
    byte ListIdentifier,
    IReadOnlyList<CscdDescriptor> CscdDescriptors,
    IReadOnlyList<SegmentDescriptor> SegmentDescriptors)
{
    public const int HeaderBytes = 16;

    /// <summary>STR: the sequential-striped hint (byte 1 bit 5).</summary>
    public bool Str { get; init; }
    public ListIdUsage ListIdUsage { get; init; }
    /// <summary>PRIORITY (0 highest, 7 lowest; ordinary commands are 1).</summary>
    public byte Priority { get; init; }
    public ReadOnlyMemory<byte> InlineData { get; init; } = ReadOnlyMemory<byte>.Empty;

    public int CscdListLengthBytes => CscdDescriptors.Sum(c => c.LengthBytes);
    public int SegmentListLengthBytes => SegmentDescriptors.Sum(s => s.LengthBytes);
    public int LengthBytes => HeaderBytes + CscdListLengthBytes + SegmentListLengthBytes + InlineData.Length;

    /// <summary>Encodes into <paramref name="dst"/>; returns the bytes written (<see cref="LengthBytes"/>).</summary>
    public int Write(Span<byte> dst)
    {
        int t = CscdListLengthBytes, s = SegmentListLengthBytes;
        if (t > ushort.MaxValue) throw new ArgumentException("CSCD descriptor list exceeds 65535 bytes", nameof(dst));
        if (Priority > 7) throw new ArgumentException("PRIORITY is 3 bits", nameof(dst));
        int total = LengthBytes;
        var d = dst[..total];
        d[..HeaderBytes].Clear();
        d[0] = ListIdentifier;
        d[1] = (byte)((Str ? 0x20 : 0) | (((byte)ListIdUsage & 3) << 3) | (Priority & 7));
        BinaryPrimitives.WriteUInt16BigEndian(d[2..], (ushort)t);
        BinaryPrimitives.WriteUInt32BigEndian(d[8..], (uint)s);
        BinaryPrimitives.WriteUInt32BigEndian(d[12..], (uint)InlineData.Length);
        int at = HeaderBytes;
        foreach (var c in CscdDescriptors) { c.Write(d[at..]); at += c.LengthBytes; }
        foreach (var g in SegmentDescriptors) { g.Write(d[at..]); at += g.LengthBytes; }
        InlineData.Span.CopyTo(d[at..]);
        return total;
    }

    public byte[] ToBytes()
    {
        var b = new byte[LengthBytes];
        Write(b);
        return b;
    }

    /// <summary>Offset in the parameter list of segment descriptor <paramref name="index"/>, for segment pointers.</summary>
    public int SegmentOffset(int index) => HeaderBytes + CscdListLengthBytes + SegmentDescriptors.Take(index).Sum(s => s.LengthBytes);

    /// <summary>
    /// Decodes and validates a parameter list against the copy manager's <paramref name="limits"/>
    /// (<see cref="OperatingParameters.Default"/> when null). Never allocates more than the input's size.
    /// Throws <see cref="ExtendedCopyException"/> (ILLEGAL REQUEST) naming the first invalid field.
    /// </summary>
    public static ExtendedCopyParameterList Read(ReadOnlySpan<byte> src, OperatingParameters? limits = null)
    {
        limits ??= OperatingParameters.Default;
        if (src.Length < HeaderBytes)
            throw ExtendedCopyException.IllegalRequest(0x1A, 0x00, null, $"parameter list is {src.Length} bytes, shorter than its 16-byte header");
        int t = BinaryPrimitives.ReadUInt16BigEndian(src[2..]);
        long s = BinaryPrimitives.ReadUInt32BigEndian(src[8..]);
        long i = BinaryPrimitives.ReadUInt32BigEndian(src[12..]);
        if (t + s > limits.MaxDescriptorListLengthBytes)
            throw ExtendedCopyException.IllegalRequest(0x1A, 0x00, null,
                $"CSCD list ({t} bytes) plus segment list ({s} bytes) exceed the MAXIMUM DESCRIPTOR LIST LENGTH {limits.MaxDescriptorListLengthBytes}");
        if (i > limits.MaxInlineDataLengthBytes)
            throw ExtendedCopyException.IllegalRequest(0x26, 0x00, 12, $"INLINE DATA LENGTH {i} exceeds the maximum {limits.MaxInlineDataLengthBytes}");
        if (src.Length < HeaderBytes + t + s + i)
            throw ExtendedCopyException.IllegalRequest(0x1A, 0x00, null,
                $"parameter list is {src.Length} bytes but its header describes {HeaderBytes + t + s + i}");
        var usage = (ListIdUsage)((src[1] >> 3) & 3);
        if (usage == ListIdUsage.Reserved)
            throw ExtendedCopyException.IllegalRequest(0x26, 0x00, 1, "LIST ID USAGE 01b is reserved", bit: 4);
        if (usage == ListIdUsage.NotUsed && !limits.SupportsNoListId)
            throw ExtendedCopyException.IllegalRequest(0x26, 0x00, 1, "LIST ID USAGE 11b needs SNLID", bit: 4);

        var cscds = ReadCscds(src.Slice(HeaderBytes, t), limits);
        var segments = ReadSegments(src.Slice(HeaderBytes + t, (int)s), HeaderBytes + t, limits);
        return new ExtendedCopyParameterList(src[0], cscds, segments)
        {
            Str = (src[1] & 0x20) != 0,
            ListIdUsage = usage,
            Priority = (byte)(src[1] & 7),
            InlineData = src.Slice(HeaderBytes + t + (int)s, (int)i).ToArray(),
        };
    }

    static List<CscdDescriptor> ReadCscds(ReadOnlySpan<byte> list, OperatingParameters limits)
    {
        // Walk first: the count check comes before any per-descriptor check, as initiators probing limits expect.
        int count = 0;
        for (int at = 0; at < list.Length; count++)
        {
            int len = DescriptorTypeCodes.CscdLengthBytes(list[at]);
            if (at + len > list.Length)
                throw ExtendedCopyException.IllegalRequest(0x26, 0x00, 2,
                    $"CSCD DESCRIPTOR LIST LENGTH {list.Length} ends inside the {len}-byte descriptor at list byte {HeaderBytes + at}");
            at += len;
        }
        if (count > limits.MaxCscdDescriptorCount)
            throw ExtendedCopyException.IllegalRequest(0x26, 0x06, 2, $"{count} CSCD descriptors exceed the maximum {limits.MaxCscdDescriptorCount}");
        var result = new List<CscdDescriptor>(count);
        for (int at = 0; at < list.Length;)
        {
            byte type = list[at];
            int len = DescriptorTypeCodes.CscdLengthBytes(type);
            if (!limits.Implements(type))
                throw ExtendedCopyException.IllegalRequest(0x26, 0x07, HeaderBytes + at, $"CSCD descriptor type {type:X2}h is not supported");
            result.Add(CscdDescriptor.Read(list.Slice(at, len), HeaderBytes + at));
            at += len;
        }
        return result;
    }

    static List<SegmentDescriptor> ReadSegments(ReadOnlySpan<byte> list, int listOffset, OperatingParameters limits)
    {
        var result = new List<SegmentDescriptor>(Math.Min(list.Length / 12 + 1, limits.MaxSegmentDescriptorCount + 1));
        for (int at = 0; at < list.Length;)
        {
            int offset = listOffset + at;
            if (result.Count >= limits.MaxSegmentDescriptorCount)
                throw ExtendedCopyException.IllegalRequest(0x26, 0x08, 8,
                    $"more than the maximum {limits.MaxSegmentDescriptorCount} segment descriptors");
            if (at + SegmentDescriptor.HeaderBytes > list.Length)
                throw ExtendedCopyException.IllegalRequest(0x26, 0x00, offset, "segment descriptor list ends inside a descriptor header");
            byte type = list[at];
            if (!limits.Implements(type) || DescriptorTypeCodes.DecodableSegmentTypes.IndexOf(type) < 0)
                throw ExtendedCopyException.IllegalRequest(0x26, 0x09, offset, $"segment descriptor type {type:X2}h is not supported");
            int len = SegmentDescriptor.HeaderBytes + BinaryPrimitives.ReadUInt16BigEndian(list[(at + 2)..]);
            int? expected = DescriptorTypeCodes.SegmentLengthBytes(type);
            bool lengthOk = expected is int e ? len == e : len >= EmbeddedDataToStreamSegment.DataOffset && len % 4 == 0;
            if (!lengthOk)
                throw ExtendedCopyException.IllegalRequest(0x26, 0x00, offset + 2,
                    $"segment descriptor {result.Count} (type {type:X2}h): DESCRIPTOR LENGTH {len - 4} is wrong for the type");
            if (at + len > list.Length)
                throw ExtendedCopyException.IllegalRequest(0x26, 0x00, offset + 2,
                    $"segment descriptor {result.Count} (type {type:X2}h) runs past the end of the segment descriptor list");
            result.Add(SegmentDescriptor.Read(list.Slice(at, len), offset));
            at += len;
        }
        return result;
    }

    public bool Equals(ExtendedCopyParameterList? other) =>
        other is not null && ListIdentifier == other.ListIdentifier && Str == other.Str && ListIdUsage == other.ListIdUsage
        && Priority == other.Priority && CscdDescriptors.SequenceEqual(other.CscdDescriptors)
        && SegmentDescriptors.SequenceEqual(other.SegmentDescriptors) && InlineData.Span.SequenceEqual(other.InlineData.Span);

    public override int GetHashCode() => HashCode.Combine(ListIdentifier, CscdDescriptors.Count, SegmentDescriptors.Count);
}
