using System.Buffers.Binary;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>Block device to stream device (00h; 0Bh with <see cref="Hold"/>): copy BLOCK DEVICE NUMBER OF BLOCKS logical
/// blocks from BLOCK DEVICE LOGICAL BLOCK ADDRESS to the stream at its current position, in writes of the STREAM DEVICE
/// TRANSFER LENGTH. 24 bytes.</summary>
public sealed record BlockToStreamSegment(ushort SourceCscdId, ushort DestinationCscdId, int StreamDeviceTransferLength,
    ushort BlockDeviceNumberOfBlocks, ulong BlockDeviceLogicalBlockAddress) : SegmentDescriptor
{
    /// <summary>0Bh: also hold the copied data for the application client.</summary>
    public bool Hold { get; init; }
    public override byte TypeCode => Hold ? DescriptorTypeCodes.BlockToStreamHold : DescriptorTypeCodes.BlockToStream;
    public override int LengthBytes => 24;

    protected override void WriteBody(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt16BigEndian(d[4..], SourceCscdId);
        BinaryPrimitives.WriteUInt16BigEndian(d[6..], DestinationCscdId);
        WriteTransferLength(d, StreamDeviceTransferLength);
        BinaryPrimitives.WriteUInt16BigEndian(d[14..], BlockDeviceNumberOfBlocks);
        BinaryPrimitives.WriteUInt64BigEndian(d[16..], BlockDeviceLogicalBlockAddress);
    }
}
