using System.Buffers.Binary;
using Offhost.Core.Errors;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>
/// RECEIVE COPY RESULTS OPERATING PARAMETERS data (service action 03h, 44 + L bytes): the limits a copy manager enforces.
/// The EXTENDED COPY decoder checks parameter lists against them, so the limits advertised are the limits applied.
/// Lengths are in bytes; granularities are log2 of bytes. Immutable.
/// </summary>
public sealed record OperatingParameters
{
    public const int HeaderBytes = 44;

    /// <summary>SNLID: LIST ID USAGE 11b (list id not used) is supported.</summary>
    public bool SupportsNoListId { get; init; } = true;
    public ushort MaxCscdDescriptorCount { get; init; } = 16;
    public ushort MaxSegmentDescriptorCount { get; init; } = 1024;
    /// <summary>MAXIMUM DESCRIPTOR LIST LENGTH: bytes of CSCD plus segment descriptor lists.</summary>
    public uint MaxDescriptorListLengthBytes { get; init; } = 65535;
    /// <summary>MAXIMUM SEGMENT LENGTH: bytes one segment may move.</summary>
    public uint MaxSegmentLengthBytes { get; init; } = 256u << 20;
    public uint MaxInlineDataLengthBytes { get; init; } = 1 << 20;
    public uint HeldDataLimitBytes { get; init; } = 64 << 10;
    /// <summary>MAXIMUM STREAM DEVICE TRANSFER SIZE: the largest record the copy manager reads or writes on a stream CSCD.</summary>
    public uint MaxStreamDeviceTransferSizeBytes { get; init; } = 16u << 20;
    public ushort TotalConcurrentCopies { get; init; } = 16;
    public byte MaxConcurrentCopies { get; init; } = 4;
    public byte DataSegmentGranularityLog2 { get; init; }
    public byte InlineDataGranularityLog2 { get; init; }
    public byte HeldDataGranularityLog2 { get; init; }

    /// <summary>Implemented segment and CSCD descriptor type codes, ascending.</summary>
    public byte[] ImplementedDescriptorTypeCodes { get; init; } =
        [0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0F, 0x10, 0x11, 0x12, 0xE4];

    /// <summary>The limits of this product's copy manager.</summary>
    public static OperatingParameters Default { get; } = new();

    public bool Implements(byte typeCode) => Array.IndexOf(ImplementedDescriptorTypeCodes, typeCode) >= 0;

    public int LengthBytes => HeaderBytes + ImplementedDescriptorTypeCodes.Length;

    public int Write(Span<byte> dst)
    {
        if (ImplementedDescriptorTypeCodes.Length > 255) throw new ArgumentException("at most 255 implemented descriptor codes", nameof(dst));
        var d = dst[..LengthBytes];
        d.Clear();
        BinaryPrimitives.WriteUInt32BigEndian(d, (uint)(LengthBytes - 4));
        d[4] = (byte)(SupportsNoListId ? 1 : 0);
        BinaryPrimitives.WriteUInt16BigEndian(d[8..], MaxCscdDescriptorCount);
        BinaryPrimitives.WriteUInt16BigEndian(d[10..], MaxSegmentDescriptorCount);
        BinaryPrimitives.WriteUInt32BigEndian(d[12..], MaxDescriptorListLengthBytes);
        BinaryPrimitives.WriteUInt32BigEndian(d[16..], MaxSegmentLengthBytes);
        BinaryPrimitives.WriteUInt32BigEndian(d[20..], MaxInlineDataLengthBytes);
        BinaryPrimitives.WriteUInt32BigEndian(d[24..], HeldDataLimitBytes);
        BinaryPrimitives.WriteUInt32BigEndian(d[28..], MaxStreamDeviceTransferSizeBytes);
        BinaryPrimitives.WriteUInt16BigEndian(d[34..], TotalConcurrentCopies);
        d[36] = MaxConcurrentCopies;
        d[37] = DataSegmentGranularityLog2;
        d[38] = InlineDataGranularityLog2;
        d[39] = HeldDataGranularityLog2;
        d[43] = (byte)ImplementedDescriptorTypeCodes.Length;
        ImplementedDescriptorTypeCodes.CopyTo(d[HeaderBytes..]);
        return LengthBytes;
    }

    public byte[] ToBytes()
    {
        var b = new byte[LengthBytes];
        Write(b);
        return b;
    }

    /// <summary>Decodes the data. Truncated or inconsistent data throws <see cref="CorruptStructureException"/>
    /// (offsets relative to the returned data).</summary>
    public static OperatingParameters Read(ReadOnlySpan<byte> src)
    {
        if (src.Length < HeaderBytes) CorruptStructure.Truncated("OPERATING PARAMETERS", 0, HeaderBytes, src.Length);
        uint available = BinaryPrimitives.ReadUInt32BigEndian(src);
        int l = src[43];
        CorruptStructure.Check(available >= HeaderBytes - 4 + l, "OPERATING PARAMETERS", 0,
            $"AVAILABLE DATA {available} is less than 40 + {l} implemented descriptor codes");
        if (src.Length < HeaderBytes + l) CorruptStructure.Truncated("OPERATING PARAMETERS implemented descriptor list", HeaderBytes, l, src.Length - HeaderBytes);
        return new OperatingParameters
        {
            SupportsNoListId = (src[4] & 1) != 0,
            MaxCscdDescriptorCount = BinaryPrimitives.ReadUInt16BigEndian(src[8..]),
            MaxSegmentDescriptorCount = BinaryPrimitives.ReadUInt16BigEndian(src[10..]),
            MaxDescriptorListLengthBytes = BinaryPrimitives.ReadUInt32BigEndian(src[12..]),
            MaxSegmentLengthBytes = BinaryPrimitives.ReadUInt32BigEndian(src[16..]),
            MaxInlineDataLengthBytes = BinaryPrimitives.ReadUInt32BigEndian(src[20..]),
            HeldDataLimitBytes = BinaryPrimitives.ReadUInt32BigEndian(src[24..]),
            MaxStreamDeviceTransferSizeBytes = BinaryPrimitives.ReadUInt32BigEndian(src[28..]),
            TotalConcurrentCopies = BinaryPrimitives.ReadUInt16BigEndian(src[34..]),
            MaxConcurrentCopies = src[36],
            DataSegmentGranularityLog2 = src[37],
            InlineDataGranularityLog2 = src[38],
            HeldDataGranularityLog2 = src[39],
            ImplementedDescriptorTypeCodes = src.Slice(HeaderBytes, l).ToArray(),
        };
    }

    public bool Equals(OperatingParameters? other) =>
        other is not null && SupportsNoListId == other.SupportsNoListId && MaxCscdDescriptorCount == other.MaxCscdDescriptorCount
        && MaxSegmentDescriptorCount == other.MaxSegmentDescriptorCount && MaxDescriptorListLengthBytes == other.MaxDescriptorListLengthBytes
        && MaxSegmentLengthBytes == other.MaxSegmentLengthBytes && MaxInlineDataLengthBytes == other.MaxInlineDataLengthBytes
        && HeldDataLimitBytes == other.HeldDataLimitBytes && MaxStreamDeviceTransferSizeBytes == other.MaxStreamDeviceTransferSizeBytes
        && TotalConcurrentCopies == other.TotalConcurrentCopies && MaxConcurrentCopies == other.MaxConcurrentCopies
        && DataSegmentGranularityLog2 == other.DataSegmentGranularityLog2 && InlineDataGranularityLog2 == other.InlineDataGranularityLog2
        && HeldDataGranularityLog2 == other.HeldDataGranularityLog2
        && ImplementedDescriptorTypeCodes.AsSpan().SequenceEqual(other.ImplementedDescriptorTypeCodes);

    public override int GetHashCode() => HashCode.Combine(MaxCscdDescriptorCount, MaxSegmentDescriptorCount, MaxDescriptorListLengthBytes);
}
