namespace Offhost.Scsi.ExtendedCopy;

/// <summary>The device-type-specific parameters of a CSCD descriptor (bytes 28-31), whose format the descriptor's
/// PERIPHERAL DEVICE TYPE chooses. Reserved bits are not kept.</summary>
public abstract record DeviceTypeParameters
{
    /// <summary>PAD (byte 28 bit 2): residual data of an inexact segment is padded (destination) or stripped (source).</summary>
    public abstract bool Pad { get; }

    /// <summary>Writes the 4 bytes.</summary>
    public abstract void Write(Span<byte> dst);

    /// <summary>Decodes the 4 bytes for a CSCD of peripheral device type <paramref name="pdt"/>.</summary>
    public static DeviceTypeParameters Read(byte pdt, ReadOnlySpan<byte> src)
    {
        bool pad = (src[0] & 0x04) != 0;
        if (PeripheralDeviceType.IsBlock(pdt)) return new BlockDeviceTypeParameters(pad, BigEndian24.Read(src[1..]));
        if (pdt == PeripheralDeviceType.SequentialAccess) return new StreamDeviceTypeParameters(pad, (src[0] & 0x01) != 0, BigEndian24.Read(src[1..]));
        if (pdt == PeripheralDeviceType.Processor) return new ProcessorDeviceTypeParameters(pad);
        return new ReservedDeviceTypeParameters((uint)((src[0] << 24) | BigEndian24.Read(src[1..])));
    }
}

/// <summary>Block device parameters (PDT 00h, 04h, 05h, 07h, 0Eh): PAD and DISK BLOCK LENGTH in bytes (24 bits).</summary>
public sealed record BlockDeviceTypeParameters(bool Pad, int DiskBlockLengthBytes) : DeviceTypeParameters
{
    public override bool Pad { get; } = Pad;

    public override void Write(Span<byte> dst)
    {
        BigEndian24.CheckRange(DiskBlockLengthBytes, nameof(DiskBlockLengthBytes));
        dst[0] = (byte)(Pad ? 0x04 : 0);
        BigEndian24.Write(dst[1..], DiskBlockLengthBytes);
    }
}

/// <summary>Sequential-access (tape) parameters (PDT 01h): PAD, FIXED, and STREAM BLOCK LENGTH in bytes (24 bits).
/// FIXED=0 with length 0 is variable mode; FIXED=1 with a non-zero length is fixed mode; the other two combinations are
/// invalid when the CSCD is used.</summary>
public sealed record StreamDeviceTypeParameters(bool Pad, bool Fixed, int StreamBlockLengthBytes) : DeviceTypeParameters
{
    public override bool Pad { get; } = Pad;

    public override void Write(Span<byte> dst)
    {
        BigEndian24.CheckRange(StreamBlockLengthBytes, nameof(StreamBlockLengthBytes));
        dst[0] = (byte)((Pad ? 0x04 : 0) | (Fixed ? 0x01 : 0));
        BigEndian24.Write(dst[1..], StreamBlockLengthBytes);
    }
}

/// <summary>Processor device parameters (PDT 03h): PAD only.</summary>
public sealed record ProcessorDeviceTypeParameters(bool Pad) : DeviceTypeParameters
{
    public override bool Pad { get; } = Pad;

    public override void Write(Span<byte> dst)
    {
        dst[..4].Clear();
        dst[0] = (byte)(Pad ? 0x04 : 0);
    }
}

/// <summary>Parameters of a PDT a copy manager cannot use in segments; the raw 4 bytes are kept.</summary>
public sealed record ReservedDeviceTypeParameters(uint Raw) : DeviceTypeParameters
{
    public override bool Pad => false;

    public override void Write(Span<byte> dst) => System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(dst, Raw);
}
