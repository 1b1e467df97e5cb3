using System.Buffers.Binary;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>Write filemarks (10h): write TRANSFER LENGTH filemarks (setmarks with <see cref="Wsmk"/>) to a tape CSCD. 12 bytes.</summary>
public sealed record WriteFilemarksSegment(ushort DestinationCscdId, int TransferLength) : SegmentDescriptor
{
    /// <summary>WSMK (byte 8 bit 1): setmarks instead of filemarks.</summary>
    public bool Wsmk { get; init; }
    public override byte TypeCode => DescriptorTypeCodes.WriteFilemarks;
    public override int LengthBytes => 12;
    protected override byte FlagsByte => 0;

    protected override void WriteBody(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt16BigEndian(d[6..], DestinationCscdId);
        d[8] = (byte)(Wsmk ? 2 : 0);
        WriteTransferLength(d, TransferLength);
    }
}
