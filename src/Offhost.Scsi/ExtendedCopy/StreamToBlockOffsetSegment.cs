using System.Buffers.Binary;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>Stream device to block device with byte offset (09h): write NUMBER OF BYTES read from the stream starting BLOCK DEVICE
/// BYTE OFFSET bytes into block BLOCK DEVICE LOGICAL BLOCK ADDRESS. 28 bytes.</summary>
public sealed record StreamToBlockOffsetSegment(ushort SourceCscdId, ushort DestinationCscdId, int StreamDeviceTransferLength,
    uint NumberOfBytes, ulong BlockDeviceLogicalBlockAddress, ushort BlockDeviceByteOffset) : SegmentDescriptor
{
    public override byte TypeCode => DescriptorTypeCodes.StreamToBlockOffset;
    public override int LengthBytes => 28;

    protected override void WriteBody(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt16BigEndian(d[4..], SourceCscdId);
        BinaryPrimitives.WriteUInt16BigEndian(d[6..], DestinationCscdId);
        WriteTransferLength(d, StreamDeviceTransferLength);
        BinaryPrimitives.WriteUInt32BigEndian(d[12..], NumberOfBytes);
        BinaryPrimitives.WriteUInt64BigEndian(d[16..], BlockDeviceLogicalBlockAddress);
        BinaryPrimitives.WriteUInt16BigEndian(d[26..], BlockDeviceByteOffset);
    }
}
