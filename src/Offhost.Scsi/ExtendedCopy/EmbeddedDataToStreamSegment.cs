using System.Buffers.Binary;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>Embedded data to stream device (05h): the descriptor carries the data itself (at most 65535 bytes), padded with
/// zeros to a multiple of 4; length 16 + padded data.</summary>
public sealed record EmbeddedDataToStreamSegment(ushort DestinationCscdId, int StreamDeviceTransferLength, byte[] Data) : SegmentDescriptor
{
    public const int DataOffset = 16;

    public override byte TypeCode => DescriptorTypeCodes.EmbeddedDataToStream;
    public override int LengthBytes => DataOffset + PaddedLength(Data.Length);

    static int PaddedLength(int n) => (n + 3) & ~3;

    protected override void WriteBody(Span<byte> d)
    {
        if (Data.Length > ushort.MaxValue) throw new ArgumentException("embedded data is at most 65535 bytes", nameof(d));
        BinaryPrimitives.WriteUInt16BigEndian(d[6..], DestinationCscdId);
        WriteTransferLength(d, StreamDeviceTransferLength);
        BinaryPrimitives.WriteUInt16BigEndian(d[14..], (ushort)Data.Length);
        Data.CopyTo(d[DataOffset..]);
    }

    internal static EmbeddedDataToStreamSegment ReadEmbedded(ReadOnlySpan<byte> d, int listOffset, ushort destination, bool cat)
    {
        int n = BinaryPrimitives.ReadUInt16BigEndian(d[14..]);
        if (d.Length != DataOffset + PaddedLength(n))
            throw ExtendedCopyException.IllegalRequest(0x26, 0x00, listOffset + 14,
                $"embedded data to stream descriptor: EMBEDDED DATA NUMBER OF BYTES {n} does not match the descriptor length {d.Length}");
        return new EmbeddedDataToStreamSegment(destination, BigEndian24.Read(d[9..]), d.Slice(DataOffset, n).ToArray()) { Cat = cat };
    }

    public bool Equals(EmbeddedDataToStreamSegment? other) =>
        other is not null && DestinationCscdId == other.DestinationCscdId && StreamDeviceTransferLength == other.StreamDeviceTransferLength
        && Cat == other.Cat && Data.AsSpan().SequenceEqual(other.Data);

    public override int GetHashCode() => HashCode.Combine(DestinationCscdId, StreamDeviceTransferLength, Data.Length);
}
