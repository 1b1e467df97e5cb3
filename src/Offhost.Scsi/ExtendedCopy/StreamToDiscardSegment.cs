using System.Buffers.Binary;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>Stream device to discard (06h; 0Fh "read and hold" with <see cref="Hold"/>): read NUMBER OF BYTES from the stream
/// and discard (or hold) them. 16 bytes.</summary>
public sealed record StreamToDiscardSegment(ushort SourceCscdId, int StreamDeviceTransferLength, uint NumberOfBytes) : SegmentDescriptor
{
    public bool Hold { get; init; }
    public override byte TypeCode => Hold ? DescriptorTypeCodes.StreamToDiscardHold : DescriptorTypeCodes.StreamToDiscard;
    public override int LengthBytes => 16;

    protected override void WriteBody(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt16BigEndian(d[4..], SourceCscdId);
        WriteTransferLength(d, StreamDeviceTransferLength);
        BinaryPrimitives.WriteUInt32BigEndian(d[12..], NumberOfBytes);
    }
}
