using System.Buffers.Binary;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>Block device with byte offset to stream device (08h): copy NUMBER OF BYTES starting BLOCK DEVICE BYTE OFFSET bytes
/// into block BLOCK DEVICE LOGICAL BLOCK ADDRESS. 28 bytes.</summary>
public sealed record BlockOffsetToStreamSegment(ushort SourceCscdId, ushort DestinationCscdId, int StreamDeviceTransferLength,
    uint NumberOfBytes, ulong BlockDeviceLogicalBlockAddress, ushort BlockDeviceByteOffset) : SegmentDescriptor
{
    public override byte TypeCode => DescriptorTypeCodes.BlockOffsetToStream;
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
