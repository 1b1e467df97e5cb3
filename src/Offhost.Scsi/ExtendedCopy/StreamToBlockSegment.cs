using System.Buffers.Binary;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>Stream device to block device (01h; 0Ch with <see cref="Hold"/>): read the stream at its current position, in reads of
/// the STREAM DEVICE TRANSFER LENGTH, until BLOCK DEVICE NUMBER OF BLOCKS logical blocks are written from BLOCK DEVICE
/// LOGICAL BLOCK ADDRESS on. 24 bytes.</summary>
public sealed record StreamToBlockSegment(ushort SourceCscdId, ushort DestinationCscdId, int StreamDeviceTransferLength,
    ushort BlockDeviceNumberOfBlocks, ulong BlockDeviceLogicalBlockAddress) : SegmentDescriptor
{
    /// <summary>0Ch: also hold the copied data for the application client.</summary>
    public bool Hold { get; init; }
    public override byte TypeCode => Hold ? DescriptorTypeCodes.StreamToBlockHold : DescriptorTypeCodes.StreamToBlock;
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
