using System.Buffers.Binary;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>Block device with byte offset to block device with byte offset (0Ah): copy NUMBER OF BYTES (32 bits) from
/// SOURCE BYTE OFFSET into SOURCE LBA to DESTINATION BYTE OFFSET into DESTINATION LBA. 32 bytes.</summary>
public sealed record BlockOffsetToBlockOffsetSegment(ushort SourceCscdId, ushort DestinationCscdId, uint NumberOfBytes,
    ulong SourceLogicalBlockAddress, ulong DestinationLogicalBlockAddress, ushort SourceByteOffset, ushort DestinationByteOffset)
    : SegmentDescriptor
{
    public override byte TypeCode => DescriptorTypeCodes.BlockOffsetToBlockOffset;
    public override int LengthBytes => 32;

    protected override void WriteBody(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt16BigEndian(d[4..], SourceCscdId);
        BinaryPrimitives.WriteUInt16BigEndian(d[6..], DestinationCscdId);
        BinaryPrimitives.WriteUInt32BigEndian(d[8..], NumberOfBytes);
        BinaryPrimitives.WriteUInt64BigEndian(d[12..], SourceLogicalBlockAddress);
        BinaryPrimitives.WriteUInt64BigEndian(d[20..], DestinationLogicalBlockAddress);
        BinaryPrimitives.WriteUInt16BigEndian(d[28..], SourceByteOffset);
        BinaryPrimitives.WriteUInt16BigEndian(d[30..], DestinationByteOffset);
    }
}
