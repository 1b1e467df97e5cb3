using System.Buffers.Binary;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>Locate (12h): position a tape CSCD at BLOCK ADDRESS (a logical object identifier: records and filemarks counted
/// from the beginning of the partition). 12 bytes.</summary>
public sealed record LocateSegment(ushort DestinationCscdId, uint BlockAddress) : SegmentDescriptor
{
    public override byte TypeCode => DescriptorTypeCodes.Locate;
    public override int LengthBytes => 12;
    protected override byte FlagsByte => 0;

    protected override void WriteBody(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt16BigEndian(d[6..], DestinationCscdId);
        BinaryPrimitives.WriteUInt32BigEndian(d[8..], BlockAddress);
    }
}
