using System.Buffers.Binary;
using Offhost.Core.Errors;

namespace Offhost.Scsi.Sense;

/// <summary>
/// Sense data (SPC-4 §4.5), fixed (70h/71h) or descriptor (72h/73h) format. Decoding is tolerant of data
/// truncated by the allocation length: fields past the end read as absent. The stream-device bits
/// (FILEMARK, EOM, ILI) and the INFORMATION field are what tape clients need; the sense-key-specific
/// field carries the field pointer of ILLEGAL REQUEST and the segment pointer of COPY ABORTED.
/// </summary>
public sealed record SenseData(SenseKey Key, byte Asc, byte Ascq)
{
    public const int FixedLength = 18;

    /// <summary>Response code: 70h current fixed, 71h deferred fixed, 72h/73h descriptor format.</summary>
    public byte ResponseCode { get; init; } = 0x70;
    public bool Filemark { get; init; }
    public bool EndOfMedium { get; init; }
    public bool IncorrectLength { get; init; }
    /// <summary>INFORMATION field when VALID is set (residue for tape reads, LBA for block errors).</summary>
    public long? Information { get; init; }
    /// <summary>COMMAND-SPECIFIC INFORMATION (fixed bytes 8-11); EXTENDED COPY puts the failing segment number here.</summary>
    public uint CommandSpecific { get; init; }
    /// <summary>The 3 sense-key-specific bytes when SKSV is set (bit 7 of the first byte is SKSV itself).</summary>
    public int? SenseKeySpecific { get; init; }

    public bool IsDescriptorFormat => ResponseCode is 0x72 or 0x73;

    /// <summary>For ILLEGAL REQUEST with SKSV: C/D=1 means the field is in the CDB, 0 the parameter list.</summary>
    public (bool InCdb, int ByteOffset, int? Bit)? FieldPointer =>
        SenseKeySpecific is int s && Key == SenseKey.IllegalRequest
            ? ((s & 0x400000) != 0, s & 0xFFFF, (s & 0x080000) != 0 ? (s >> 16) & 0x7 : null)
            : null;

    /// <summary>Encodes fixed-format sense (18 bytes) into <paramref name="dst"/>; returns bytes written.</summary>
    public int WriteFixed(Span<byte> dst)
    {
        if (dst.Length < FixedLength) throw new ArgumentException("sense buffer must hold 18 bytes", nameof(dst));
        dst[..FixedLength].Clear();
        dst[0] = (byte)((Information is not null ? 0x80 : 0) | (ResponseCode is 0x71 ? 0x71 : 0x70));
        dst[2] = (byte)((Filemark ? 0x80 : 0) | (EndOfMedium ? 0x40 : 0) | (IncorrectLength ? 0x20 : 0) | (byte)Key);
        if (Information is long info) BinaryPrimitives.WriteInt32BigEndian(dst[3..], (int)info);
        dst[7] = FixedLength - 8;
        BinaryPrimitives.WriteUInt32BigEndian(dst[8..], CommandSpecific);
        dst[12] = Asc;
        dst[13] = Ascq;
        if (SenseKeySpecific is int sks)
        {
            dst[15] = (byte)(0x80 | ((sks >> 16) & 0x7F));
            dst[16] = (byte)(sks >> 8);
            dst[17] = (byte)sks;
        }
        return FixedLength;
    }

    public byte[] ToFixedBytes()
    {
        var b = new byte[FixedLength];
        WriteFixed(b);
        return b;
    }

    /// <summary>Decodes sense data of either format. Throws <see cref="CorruptStructureException"/> (offset relative
    /// to the sense buffer) when the response code is not a sense response code.</summary>
    public static SenseData Read(ReadOnlySpan<byte> src)
    {
        if (src.Length < 1) CorruptStructure.Truncated("sense data", 0, 1, src.Length);
        byte code = (byte)(src[0] & 0x7F);
        return code switch
        {
            0x70 or 0x71 => ReadFixed(src, code),
            0x72 or 0x73 => ReadDescriptor(src, code),
            _ => CorruptStructure.Throw<SenseData>("sense data", 0, $"response code {code:X2}h is not 70h-73h"),
        };
    }

    static SenseData ReadFixed(ReadOnlySpan<byte> src, byte code)
    {
        byte b2 = src.Length > 2 ? src[2] : (byte)0;
        bool valid = (src[0] & 0x80) != 0;
        long? info = valid && src.Length >= 7 ? BinaryPrimitives.ReadInt32BigEndian(src[3..]) : null;
        uint csi = src.Length >= 12 ? BinaryPrimitives.ReadUInt32BigEndian(src[8..]) : 0;
        int? sks = src.Length >= 18 && (src[15] & 0x80) != 0 ? ((src[15] & 0x7F) << 16) | (src[16] << 8) | src[17] : null;
        return new SenseData((SenseKey)(b2 & 0x0F), src.Length > 12 ? src[12] : (byte)0, src.Length > 13 ? src[13] : (byte)0)
        {
            ResponseCode = code,
            Filemark = (b2 & 0x80) != 0,
            EndOfMedium = (b2 & 0x40) != 0,
            IncorrectLength = (b2 & 0x20) != 0,
            Information = info,
            CommandSpecific = csi,
            SenseKeySpecific = sks,
        };
    }

    static SenseData ReadDescriptor(ReadOnlySpan<byte> src, byte code)
    {
        if (src.Length < 8) CorruptStructure.Truncated("descriptor sense data", 0, 8, src.Length);
        var sense = new SenseData((SenseKey)(src[1] & 0x0F), src[2], src[3]) { ResponseCode = code };
        int end = Math.Min(src.Length, 8 + src[7]);
        int at = 8;
        while (at + 2 <= end)
        {
            byte type = src[at];
            int len = src[at + 1];
            if (at + 2 + len > end) break;                      // truncated by the allocation length
            var d = src.Slice(at + 2, len);
            switch (type)
            {
                case 0x00 when len >= 10 && (d[0] & 0x80) != 0:  // information
                    sense = sense with { Information = BinaryPrimitives.ReadInt64BigEndian(d[2..]) };
                    break;
                case 0x01 when len >= 10:                         // command-specific information
                    sense = sense with { CommandSpecific = (uint)BinaryPrimitives.ReadUInt64BigEndian(d[2..]) };
                    break;
                case 0x02 when len >= 6 && (d[2] & 0x80) != 0:   // sense-key specific
                    sense = sense with { SenseKeySpecific = ((d[2] & 0x7F) << 16) | (d[3] << 8) | d[4] };
                    break;
                case 0x04 when len >= 2:                          // stream commands
                    sense = sense with { Filemark = (d[1] & 0x80) != 0, EndOfMedium = (d[1] & 0x40) != 0, IncorrectLength = (d[1] & 0x20) != 0 };
                    break;
            }
            at += 2 + len;
        }
        return sense;
    }

    public override string ToString()
    {
        var flags = string.Concat(Filemark ? " FILEMARK" : "", EndOfMedium ? " EOM" : "", IncorrectLength ? " ILI" : "");
        return $"{Key} ({(byte)Key:X1}h), ASC/ASCQ {Asc:X2}h/{Ascq:X2}h {AdditionalSense.Describe(Asc, Ascq)}{flags}"
            + (Information is long i ? $", information {i}" : "");
    }
}
