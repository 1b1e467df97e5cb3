using System.Buffers.Binary;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>Space (11h): SPACE(6) on a tape CSCD. CODE 0 blocks, 1 filemarks, 2 sequential filemarks, 3 end-of-data;
/// COUNT is 24-bit two's complement (negative = backwards). 12 bytes.</summary>
public sealed record SpaceSegment(ushort DestinationCscdId, byte Code, int Count) : SegmentDescriptor
{
    public const int MinCount = -0x80_0000;
    public const int MaxCount = 0x7F_FFFF;

    public override byte TypeCode => DescriptorTypeCodes.Space;
    public override int LengthBytes => 12;
    protected override byte FlagsByte => 0;

    protected override void WriteBody(Span<byte> d)
    {
        if (Count is < MinCount or > MaxCount) throw new ArgumentOutOfRangeException(nameof(d), Count, "COUNT is 24-bit signed");
        BinaryPrimitives.WriteUInt16BigEndian(d[6..], DestinationCscdId);
        d[8] = (byte)(Code & 0x07);
        BigEndian24.Write(d[9..], Count & BigEndian24.Max);
    }
}
