namespace Offhost.Scsi.ExtendedCopy;

/// <summary>A CSCD descriptor of a type this codec does not interpret (E0h-E3h, E5h-EBh, FEh, FFh, vendor codes):
/// its raw 32 or 64 bytes, so it can be re-encoded or rejected with the right sense.</summary>
public sealed record OpaqueCscdDescriptor : CscdDescriptor
{
    public OpaqueCscdDescriptor(byte[] bytes)
    {
        if (bytes.Length == 0 || bytes.Length != DescriptorTypeCodes.CscdLengthBytes(bytes[0]))
            throw new ArgumentException("an opaque CSCD descriptor is 32 bytes (64 for EAh/EBh)", nameof(bytes));
        Bytes = bytes;
    }

    public byte[] Bytes { get; }
    public override byte TypeCode => Bytes[0];
    public override byte PeripheralDeviceType => (byte)(Bytes[1] & 0x1F);

    public override void Write(Span<byte> dst) => Bytes.CopyTo(dst);

    public bool Equals(OpaqueCscdDescriptor? other) => other is not null && Bytes.AsSpan().SequenceEqual(other.Bytes);
    public override int GetHashCode() => HashCode.Combine(Bytes.Length, Bytes[0]);
    public override string ToString() => $"{TypeCode:X2}h {Convert.ToHexString(Bytes)}";
}
