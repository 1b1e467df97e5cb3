using System.Buffers.Binary;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>Inline data to stream device (04h): write INLINE DATA NUMBER OF BYTES from INLINE DATA OFFSET (bytes from the
/// start of the parameter list's inline data) to the stream. 20 bytes.</summary>
public sealed record InlineDataToStreamSegment(ushort DestinationCscdId, int StreamDeviceTransferLength,
    uint InlineDataOffsetBytes, uint InlineDataNumberOfBytes) : SegmentDescriptor
{
    public override byte TypeCode => DescriptorTypeCodes.InlineDataToStream;
    public override int LengthBytes => 20;

    protected override void WriteBody(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt16BigEndian(d[6..], DestinationCscdId);
        WriteTransferLength(d, StreamDeviceTransferLength);
        BinaryPrimitives.WriteUInt32BigEndian(d[12..], InlineDataOffsetBytes);
        BinaryPrimitives.WriteUInt32BigEndian(d[16..], InlineDataNumberOfBytes);
    }
}
