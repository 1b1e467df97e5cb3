using System.Buffers.Binary;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>Verify CSCD (07h): check that the source CSCD is addressable, and with <paramref name="Tur"/> that it is ready. 12 bytes.</summary>
public sealed record VerifyCscdSegment(ushort SourceCscdId, bool Tur) : SegmentDescriptor
{
    public override byte TypeCode => DescriptorTypeCodes.VerifyCscd;
    public override int LengthBytes => 12;
    protected override byte FlagsByte => 0;

    protected override void WriteBody(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt16BigEndian(d[4..], SourceCscdId);
        d[8] = (byte)(Tur ? 1 : 0);
    }
}
