using System.Buffers.Binary;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>
/// Identification CSCD descriptor (type E4h): names a logical unit by one designation descriptor in VPD page 83h format
/// (code set, association, designator type, designator of at most 20 bytes) plus the device-type-specific parameters.
/// A copy manager resolves it to a logical unit whose VPD 83h has the same designator. Immutable.
/// </summary>
public sealed record IdentificationCscdDescriptor(
    byte CodeSet,
    byte Association,
    byte DesignatorType,
    byte[] Designator,
    byte PeripheralDeviceType,
    DeviceTypeParameters Parameters) : CscdDescriptor
{
    public const int MaxDesignatorLengthBytes = 20;
    public const byte CodeSetBinary = 1;
    public const byte DesignatorTypeNaa = 3;

    public override byte TypeCode => DescriptorTypeCodes.Identification;
    public override byte PeripheralDeviceType { get; } = PeripheralDeviceType;

    /// <summary>LU ID TYPE (byte 1 bits 7-6). Ignored for E4h by SPC-4 copy managers; kept for round trips.</summary>
    public byte LuIdType { get; init; }

    /// <summary>NUL (byte 1 bit 5; obsolete in SPC-4).</summary>
    public bool Nul { get; init; }

    /// <summary>RELATIVE INITIATOR PORT IDENTIFIER (bytes 2-3; 0 = any port).</summary>
    public ushort RelativeInitiatorPortIdentifier { get; init; }

    /// <summary>A binary NAA designator of a logical unit (association 0), as libiscsi and ddpt build them.</summary>
    public static IdentificationCscdDescriptor ForNaa(ReadOnlySpan<byte> naa, byte pdt, DeviceTypeParameters parameters) =>
        new(CodeSetBinary, 0, DesignatorTypeNaa, naa.ToArray(), pdt, parameters);

    public override void Write(Span<byte> dst)
    {
        if (Designator.Length > MaxDesignatorLengthBytes)
            throw new ArgumentException($"designator is {Designator.Length} bytes; at most {MaxDesignatorLengthBytes} fit", nameof(dst));
        if (Parameters is BlockDeviceTypeParameters && !ExtendedCopy.PeripheralDeviceType.IsBlock(PeripheralDeviceType)
            || Parameters is StreamDeviceTypeParameters && PeripheralDeviceType != ExtendedCopy.PeripheralDeviceType.SequentialAccess)
            throw new ArgumentException($"{Parameters.GetType().Name} do not match peripheral device type {PeripheralDeviceType:X2}h", nameof(dst));
        var d = dst[..32];
        d.Clear();
        d[0] = TypeCode;
        d[1] = (byte)(((LuIdType & 3) << 6) | (Nul ? 0x20 : 0) | (PeripheralDeviceType & 0x1F));
        BinaryPrimitives.WriteUInt16BigEndian(d[2..], RelativeInitiatorPortIdentifier);
        d[4] = (byte)(CodeSet & 0x0F);
        d[5] = (byte)(((Association & 3) << 4) | (DesignatorType & 0x0F));
        d[7] = (byte)Designator.Length;
        Designator.CopyTo(d[8..]);
        Parameters.Write(d[28..]);
    }

    /// <summary>True when <paramref name="other"/> names the same designator (code set, association, type, bytes).</summary>
    public bool SameDesignatorAs(IdentificationCscdDescriptor other) =>
        CodeSet == other.CodeSet && Association == other.Association && DesignatorType == other.DesignatorType
        && Designator.AsSpan().SequenceEqual(other.Designator);

    public bool Equals(IdentificationCscdDescriptor? other) =>
        other is not null && SameDesignatorAs(other) && PeripheralDeviceType == other.PeripheralDeviceType
        && Parameters == other.Parameters && LuIdType == other.LuIdType && Nul == other.Nul
        && RelativeInitiatorPortIdentifier == other.RelativeInitiatorPortIdentifier;

    public override int GetHashCode() => HashCode.Combine(CodeSet, DesignatorType, Designator.Length, PeripheralDeviceType, Parameters);

    public override string ToString() =>
        $"E4h PDT {PeripheralDeviceType:X2}h code set {CodeSet} type {DesignatorType} designator {Convert.ToHexString(Designator)} {Parameters}";
}
