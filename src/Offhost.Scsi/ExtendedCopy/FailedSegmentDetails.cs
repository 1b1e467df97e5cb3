using System.Buffers.Binary;
using Offhost.Core.Errors;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>RECEIVE COPY RESULTS FAILED SEGMENT DETAILS data (service action 04h): the SCSI status and sense data an
/// EXTENDED COPY ended with. <see cref="None"/> (AVAILABLE DATA 0, 60 bytes) when there are no details. Immutable.</summary>
public sealed record FailedSegmentDetails(byte CopyCommandStatus, byte[] SenseData)
{
    public const int HeaderBytes = 60;
    public const byte CheckConditionStatus = 0x02;

    public static FailedSegmentDetails None { get; } = new(0, []);

    public bool IsNone => SenseData.Length == 0 && CopyCommandStatus == 0;

    public int LengthBytes => HeaderBytes + SenseData.Length;

    public int Write(Span<byte> dst)
    {
        if (SenseData.Length > ushort.MaxValue) throw new ArgumentException("sense data is at most 65535 bytes", nameof(dst));
        var d = dst[..LengthBytes];
        d.Clear();
        BinaryPrimitives.WriteUInt32BigEndian(d, IsNone ? 0u : (uint)(LengthBytes - 4));
        d[56] = CopyCommandStatus;
        BinaryPrimitives.WriteUInt16BigEndian(d[58..], (ushort)SenseData.Length);
        SenseData.CopyTo(d[HeaderBytes..]);
        return LengthBytes;
    }

    public byte[] ToBytes()
    {
        var b = new byte[LengthBytes];
        Write(b);
        return b;
    }

    public static FailedSegmentDetails Read(ReadOnlySpan<byte> src)
    {
        if (src.Length < 4) CorruptStructure.Truncated("FAILED SEGMENT DETAILS", 0, 4, src.Length);
        uint available = BinaryPrimitives.ReadUInt32BigEndian(src);
        if (available == 0) return None;
        if (src.Length < HeaderBytes) CorruptStructure.Truncated("FAILED SEGMENT DETAILS", 0, HeaderBytes, src.Length);
        int senseLength = BinaryPrimitives.ReadUInt16BigEndian(src[58..]);
        CorruptStructure.Check(available >= HeaderBytes - 4 + senseLength, "FAILED SEGMENT DETAILS", 58,
            $"SENSE DATA LENGTH {senseLength} exceeds AVAILABLE DATA {available}");
        if (src.Length < HeaderBytes + senseLength) CorruptStructure.Truncated("FAILED SEGMENT DETAILS sense data", HeaderBytes, senseLength, src.Length - HeaderBytes);
        return new FailedSegmentDetails(src[56], src.Slice(HeaderBytes, senseLength).ToArray());
    }

    public bool Equals(FailedSegmentDetails? other) =>
        other is not null && CopyCommandStatus == other.CopyCommandStatus && SenseData.AsSpan().SequenceEqual(other.SenseData);

    public override int GetHashCode() => HashCode.Combine(CopyCommandStatus, SenseData.Length);
}
