using System.Buffers.Binary;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>Block device to block device (02h; 0Dh with <see cref="Hold"/>). BLOCK DEVICE NUMBER OF BLOCKS (16 bits) counts
/// source blocks when <see cref="Dc"/> is 0 and destination blocks when it is 1. 28 bytes.</summary>
public sealed record BlockToBlockSegment(ushort SourceCscdId, ushort DestinationCscdId, ushort BlockDeviceNumberOfBlocks,
    ulong SourceLogicalBlockAddress, ulong DestinationLogicalBlockAddress) : SegmentDescriptor
{
    /// <summary>DC (byte 1 bit 1): the block count is in destination blocks.</summary>
    public bool Dc { get; init; }
    public bool Hold { get; init; }
    public override byte TypeCode => Hold ? DescriptorTypeCodes.BlockToBlockHold : DescriptorTypeCodes.BlockToBlock;
    public override int LengthBytes => 28;
    protected override byte FlagsByte => (byte)((Dc ? 2 : 0) | (Cat ? 1 : 0));

    protected override void WriteBody(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt16BigEndian(d[4..], SourceCscdId);
        BinaryPrimitives.WriteUInt16BigEndian(d[6..], DestinationCscdId);
        BinaryPrimitives.WriteUInt16BigEndian(d[10..], BlockDeviceNumberOfBlocks);
        BinaryPrimitives.WriteUInt64BigEndian(d[12..], SourceLogicalBlockAddress);
        BinaryPrimitives.WriteUInt64BigEndian(d[20..], DestinationLogicalBlockAddress);
    }
}
