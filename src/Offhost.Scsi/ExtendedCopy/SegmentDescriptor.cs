using System.Buffers.Binary;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>
/// A segment descriptor of an EXTENDED COPY parameter list (SPC-4 6.4.6): one unit of work of the copy manager.
/// Common header: byte 0 type code, byte 1 DC/CAT flags where the type defines them, bytes 2-3 DESCRIPTOR LENGTH
/// (total − 4). Block counts are logical blocks of the block CSCD; byte counts are bytes; stream transfer lengths are
/// bytes in variable mode, blocks in fixed mode. Immutable.
/// </summary>
public abstract record SegmentDescriptor
{
    public const int HeaderBytes = 4;

    /// <summary>DESCRIPTOR TYPE CODE.</summary>
    public abstract byte TypeCode { get; }

    /// <summary>Total encoded length in bytes (a multiple of 4).</summary>
    public abstract int LengthBytes { get; }

    /// <summary>CAT (byte 1 bit 0): keep residual data for the next segment instead of padding/stripping it.
    /// Only types that define CAT (00h-02h, 04h-06h, 08h-0Dh, 0Fh) encode it; the others ignore it.</summary>
    public bool Cat { get; init; }

    /// <summary>Byte 1 as encoded (DC bit 1, CAT bit 0).</summary>
    protected virtual byte FlagsByte => (byte)(Cat ? 1 : 0);

    /// <summary>Writes the descriptor into <paramref name="dst"/> (at least <see cref="LengthBytes"/> bytes).</summary>
    public void Write(Span<byte> dst)
    {
        var d = dst[..LengthBytes];
        d.Clear();
        d[0] = TypeCode;
        d[1] = FlagsByte;
        BinaryPrimitives.WriteUInt16BigEndian(d[2..], checked((ushort)(LengthBytes - HeaderBytes)));
        WriteBody(d);
    }

    /// <summary>Writes bytes 4 onward; the header and zeroed reserved fields are already there.</summary>
    protected abstract void WriteBody(Span<byte> d);

    public byte[] ToBytes()
    {
        var b = new byte[LengthBytes];
        Write(b);
        return b;
    }

    /// <summary>Decodes a descriptor whose type is decodable and whose length was already checked against the type
    /// (<see cref="DescriptorTypeCodes.SegmentLengthBytes"/>); <paramref name="d"/> is exactly the descriptor.
    /// <paramref name="listOffset"/> is its offset in the parameter list, for field pointers.</summary>
    internal static SegmentDescriptor Read(ReadOnlySpan<byte> d, int listOffset)
    {
        bool cat = (d[1] & 0x01) != 0;
        bool dc = (d[1] & 0x02) != 0;
        ushort src = BinaryPrimitives.ReadUInt16BigEndian(d[4..]);
        ushort dst = BinaryPrimitives.ReadUInt16BigEndian(d[6..]);
        byte type = d[0];
        return type switch
        {
            0x00 or 0x0B => new BlockToStreamSegment(src, dst, BigEndian24.Read(d[9..]), BinaryPrimitives.ReadUInt16BigEndian(d[14..]),
                BinaryPrimitives.ReadUInt64BigEndian(d[16..])) { Cat = cat, Hold = type == 0x0B },
            0x01 or 0x0C => new StreamToBlockSegment(src, dst, BigEndian24.Read(d[9..]), BinaryPrimitives.ReadUInt16BigEndian(d[14..]),
                BinaryPrimitives.ReadUInt64BigEndian(d[16..])) { Cat = cat, Hold = type == 0x0C },
            0x02 or 0x0D => new BlockToBlockSegment(src, dst, BinaryPrimitives.ReadUInt16BigEndian(d[10..]),
                BinaryPrimitives.ReadUInt64BigEndian(d[12..]), BinaryPrimitives.ReadUInt64BigEndian(d[20..])) { Cat = cat, Dc = dc, Hold = type == 0x0D },
            0x04 => new InlineDataToStreamSegment(dst, BigEndian24.Read(d[9..]), BinaryPrimitives.ReadUInt32BigEndian(d[12..]),
                BinaryPrimitives.ReadUInt32BigEndian(d[16..])) { Cat = cat },
            0x05 => EmbeddedDataToStreamSegment.ReadEmbedded(d, listOffset, dst, cat),
            0x06 or 0x0F => new StreamToDiscardSegment(src, BigEndian24.Read(d[9..]), BinaryPrimitives.ReadUInt32BigEndian(d[12..]))
                { Cat = cat, Hold = type == 0x0F },
            0x07 => new VerifyCscdSegment(src, (d[8] & 0x01) != 0),
            0x08 => new BlockOffsetToStreamSegment(src, dst, BigEndian24.Read(d[9..]), BinaryPrimitives.ReadUInt32BigEndian(d[12..]),
                BinaryPrimitives.ReadUInt64BigEndian(d[16..]), BinaryPrimitives.ReadUInt16BigEndian(d[26..])) { Cat = cat },
            0x09 => new StreamToBlockOffsetSegment(src, dst, BigEndian24.Read(d[9..]), BinaryPrimitives.ReadUInt32BigEndian(d[12..]),
                BinaryPrimitives.ReadUInt64BigEndian(d[16..]), BinaryPrimitives.ReadUInt16BigEndian(d[26..])) { Cat = cat },
            0x0A => new BlockOffsetToBlockOffsetSegment(src, dst, BinaryPrimitives.ReadUInt32BigEndian(d[8..]),
                BinaryPrimitives.ReadUInt64BigEndian(d[12..]), BinaryPrimitives.ReadUInt64BigEndian(d[20..]),
                BinaryPrimitives.ReadUInt16BigEndian(d[28..]), BinaryPrimitives.ReadUInt16BigEndian(d[30..])) { Cat = cat },
            0x10 => new WriteFilemarksSegment(dst, BigEndian24.Read(d[9..])) { Wsmk = (d[8] & 0x02) != 0 },
            0x11 => new SpaceSegment(dst, (byte)(d[8] & 0x07), BigEndian24.ReadSigned(d[9..])),
            0x12 => new LocateSegment(dst, BinaryPrimitives.ReadUInt32BigEndian(d[8..])),
            _ => throw ExtendedCopyException.IllegalRequest(0x26, 0x09, listOffset, $"segment descriptor type {type:X2}h is not supported"),
        };
    }

    protected static void WriteTransferLength(Span<byte> d, int streamDeviceTransferLength)
    {
        BigEndian24.CheckRange(streamDeviceTransferLength, "StreamDeviceTransferLength");
        BigEndian24.Write(d[9..], streamDeviceTransferLength);
    }
}
