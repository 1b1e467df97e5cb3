using System.Buffers.Binary;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>
/// A copy source/copy destination (CSCD, formerly "target") descriptor of an EXTENDED COPY parameter list (SPC-4
/// 6.4.5). Segment descriptors name CSCDs by their 0-based index in the list. Only the identification descriptor (E4h)
/// is decoded field by field; every other type code is kept as <see cref="OpaqueCscdDescriptor"/> so a copy manager
/// can reject it with UNSUPPORTED TARGET DESCRIPTOR TYPE CODE.
/// </summary>
public abstract record CscdDescriptor
{
    /// <summary>DESCRIPTOR TYPE CODE (byte 0).</summary>
    public abstract byte TypeCode { get; }

    /// <summary>Encoded length: 32 bytes, 64 for EAh/EBh.</summary>
    public int LengthBytes => DescriptorTypeCodes.CscdLengthBytes(TypeCode);

    /// <summary>Writes the descriptor into <paramref name="dst"/> (at least <see cref="LengthBytes"/> bytes).</summary>
    public abstract void Write(Span<byte> dst);

    /// <summary>PERIPHERAL DEVICE TYPE of the CSCD (byte 1 bits 4-0).</summary>
    public abstract byte PeripheralDeviceType { get; }

    /// <summary>Decodes one descriptor from <paramref name="src"/>, whose length is already <see cref="DescriptorTypeCodes.CscdLengthBytes"/>.
    /// <paramref name="listOffset"/> is the descriptor's offset in the parameter list, for field pointers.</summary>
    public static CscdDescriptor Read(ReadOnlySpan<byte> src, int listOffset)
    {
        byte type = src[0];
        if (type != DescriptorTypeCodes.Identification) return new OpaqueCscdDescriptor(src.ToArray());
        int designatorLength = src[7];
        if (designatorLength > IdentificationCscdDescriptor.MaxDesignatorLengthBytes)
            throw ExtendedCopyException.IllegalRequest(0x26, 0x00, listOffset + 7,
                $"identification CSCD descriptor: DESIGNATOR LENGTH {designatorLength} exceeds {IdentificationCscdDescriptor.MaxDesignatorLengthBytes}");
        byte pdt = (byte)(src[1] & 0x1F);
        return new IdentificationCscdDescriptor(
            CodeSet: (byte)(src[4] & 0x0F),
            Association: (byte)((src[5] >> 4) & 0x03),
            DesignatorType: (byte)(src[5] & 0x0F),
            Designator: src.Slice(8, designatorLength).ToArray(),
            PeripheralDeviceType: pdt,
            Parameters: DeviceTypeParameters.Read(pdt, src[28..32]))
        {
            LuIdType = (byte)(src[1] >> 6),
            Nul = (src[1] & 0x20) != 0,
            RelativeInitiatorPortIdentifier = BinaryPrimitives.ReadUInt16BigEndian(src[2..]),
        };
    }
}
