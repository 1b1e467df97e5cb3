namespace Offhost.Scsi.ExtendedCopy;

/// <summary>DESCRIPTOR TYPE CODE values of segment descriptors (00h-12h) and CSCD descriptors (E0h-FFh), SPC-4.</summary>
public static class DescriptorTypeCodes
{
    public const byte BlockToStream = 0x00;
    public const byte StreamToBlock = 0x01;
    public const byte BlockToBlock = 0x02;
    public const byte StreamToStream = 0x03;
    public const byte InlineDataToStream = 0x04;
    public const byte EmbeddedDataToStream = 0x05;
    public const byte StreamToDiscard = 0x06;
    public const byte VerifyCscd = 0x07;
    public const byte BlockOffsetToStream = 0x08;
    public const byte StreamToBlockOffset = 0x09;
    public const byte BlockOffsetToBlockOffset = 0x0A;
    public const byte BlockToStreamHold = 0x0B;
    public const byte StreamToBlockHold = 0x0C;
    public const byte BlockToBlockHold = 0x0D;
    public const byte StreamToStreamHold = 0x0E;
    public const byte StreamToDiscardHold = 0x0F;
    public const byte WriteFilemarks = 0x10;
    public const byte Space = 0x11;
    public const byte Locate = 0x12;

    public const byte FibreChannelNPortName = 0xE0;
    public const byte Identification = 0xE4;
    public const byte Ipv6 = 0xEA;
    public const byte IpCopyService = 0xEB;

    /// <summary>Segment descriptor types this codec can decode (03h/0Eh stream→stream are not among them).</summary>
    public static ReadOnlySpan<byte> DecodableSegmentTypes =>
        [0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0F, 0x10, 0x11, 0x12];

    /// <summary>Encoded length in bytes of a CSCD descriptor with type code <paramref name="typeCode"/>: 64 for EAh/EBh, else 32.</summary>
    public static int CscdLengthBytes(byte typeCode) => typeCode is Ipv6 or IpCopyService ? 64 : 32;

    /// <summary>The fixed total length of a segment descriptor type, or null when variable (05h) or not decodable.</summary>
    public static int? SegmentLengthBytes(byte typeCode) => typeCode switch
    {
        0x00 or 0x01 or 0x0B or 0x0C => 24,
        0x02 or 0x0D => 28,
        0x04 => 20,
        0x06 or 0x0F => 16,
        0x07 or 0x10 or 0x11 or 0x12 => 12,
        0x08 or 0x09 => 28,
        0x0A => 32,
        _ => null,
    };
}
