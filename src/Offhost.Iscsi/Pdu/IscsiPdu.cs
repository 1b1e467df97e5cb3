using System.Buffers.Binary;

namespace Offhost.Iscsi.Pdu;

/// <summary>
/// One iSCSI PDU: the 48-byte Basic Header Segment, optional Additional Header Segments and the data segment
/// (RFC 7143 §11.2). Field accessors name the RFC field at its byte offset; several fields share an offset and
/// apply to different opcodes (e.g. bytes 24-27 are CmdSN in requests and StatSN in responses), as documented
/// on each. Multi-byte fields are big-endian. Not thread-safe.
/// </summary>
public sealed class IscsiPdu
{
    public const int BhsLength = 48;
    /// <summary>Reserved task tag meaning "no task" (FFFFFFFFh).</summary>
    public const uint ReservedTag = 0xFFFFFFFFu;
    /// <summary>Largest DataSegmentLength the 24-bit field can carry.</summary>
    public const int MaxDataSegmentLength = 0xFFFFFF;

    public IscsiPdu(IscsiOpcode opcode)
    {
        Header = new byte[BhsLength];
        Opcode = opcode;
    }

    /// <summary>Wraps an existing 48-byte header (copied).</summary>
    public IscsiPdu(ReadOnlySpan<byte> bhs, ReadOnlyMemory<byte> additionalHeader, ReadOnlyMemory<byte> data)
    {
        if (bhs.Length != BhsLength) throw new ArgumentException("a BHS is 48 bytes", nameof(bhs));
        Header = bhs.ToArray();
        AdditionalHeader = additionalHeader;
        Data = data;
    }

    /// <summary>The BHS bytes, mutable.</summary>
    public byte[] Header { get; }

    /// <summary>AHS bytes (a multiple of 4); TotalAHSLength follows it when encoding.</summary>
    public ReadOnlyMemory<byte> AdditionalHeader { get; set; }

    /// <summary>The data segment without padding; DataSegmentLength follows it when encoding.</summary>
    public ReadOnlyMemory<byte> Data { get; set; }

    public IscsiOpcode Opcode
    {
        get => (IscsiOpcode)(Header[0] & 0x3F);
        set => Header[0] = (byte)((Header[0] & 0xC0) | ((byte)value & 0x3F));
    }

    /// <summary>Byte 0 bit 6: immediate delivery (requests only).</summary>
    public bool Immediate
    {
        get => (Header[0] & 0x40) != 0;
        set => Header[0] = (byte)(value ? Header[0] | 0x40 : Header[0] & ~0x40);
    }

    /// <summary>Byte 1: F bit and opcode-specific flags.</summary>
    public byte Flags { get => Header[1]; set => Header[1] = value; }

    /// <summary>Byte 1 bit 7: final PDU of a sequence (T, transit, for Login PDUs).</summary>
    public bool Final
    {
        get => (Header[1] & 0x80) != 0;
        set => Header[1] = (byte)(value ? Header[1] | 0x80 : Header[1] & ~0x80);
    }

    /// <summary>Byte 2 (Response in SCSI/TMF/Logout responses, Reject reason, Version-max in Login).</summary>
    public byte Byte2 { get => Header[2]; set => Header[2] = value; }

    /// <summary>Byte 3 (SCSI Status in SCSI Response and Data-In with S).</summary>
    public byte Byte3 { get => Header[3]; set => Header[3] = value; }

    /// <summary>Byte 4: length of all AHS in 4-byte words.</summary>
    public int TotalAhsLengthWords => Header[4];

    /// <summary>Bytes 5-7: data segment length in bytes, without padding.</summary>
    public int DataSegmentLength => (Header[5] << 16) | (Header[6] << 8) | Header[7];

    internal void SetLengths()
    {
        if (AdditionalHeader.Length % 4 != 0 || AdditionalHeader.Length / 4 > 255)
            throw new InvalidOperationException($"AHS of {AdditionalHeader.Length} bytes is not a multiple of 4 up to 1020");
        if (Data.Length > MaxDataSegmentLength)
            throw new InvalidOperationException($"data segment of {Data.Length} bytes exceeds the 24-bit DataSegmentLength");
        Header[4] = (byte)(AdditionalHeader.Length / 4);
        Header[5] = (byte)(Data.Length >> 16);
        Header[6] = (byte)(Data.Length >> 8);
        Header[7] = (byte)Data.Length;
    }

    /// <summary>Bytes 8-15: LUN in SAM format (or ISID+TSIH in Login PDUs).</summary>
    public ulong LunField { get => U64(8); set => SetU64(8, value); }

    /// <summary>Bytes 8-13 of Login PDUs: ISID (48 bits).</summary>
    public ulong Isid
    {
        get => U64(8) >> 16;
        set { var tsih = Tsih; SetU64(8, (value << 16) | tsih); }
    }

    /// <summary>Bytes 14-15 of Login PDUs: TSIH.</summary>
    public ushort Tsih
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(Header.AsSpan(14));
        set => BinaryPrimitives.WriteUInt16BigEndian(Header.AsSpan(14), value);
    }

    /// <summary>Bytes 16-19: Initiator Task Tag.</summary>
    public uint InitiatorTaskTag { get => U32(16); set => SetU32(16, value); }

    /// <summary>Bytes 20-23: Target Transfer Tag (NOP, Data, R2T, Text), Expected Data Transfer Length (SCSI Command),
    /// SNACK Tag (SCSI Response), Referenced Task Tag (TMF).</summary>
    public uint Field20 { get => U32(20); set => SetU32(20, value); }

    public uint TargetTransferTag { get => Field20; set => Field20 = value; }
    public uint ExpectedDataTransferLength { get => Field20; set => Field20 = value; }

    /// <summary>Bytes 20-21 of Login and Logout requests: connection id.</summary>
    public ushort Cid
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(Header.AsSpan(20));
        set => BinaryPrimitives.WriteUInt16BigEndian(Header.AsSpan(20), value);
    }

    /// <summary>Bytes 24-27: CmdSN (requests) or StatSN (responses).</summary>
    public uint Field24 { get => U32(24); set => SetU32(24, value); }

    public uint CmdSN { get => Field24; set => Field24 = value; }
    public uint StatSN { get => Field24; set => Field24 = value; }

    /// <summary>Bytes 28-31: ExpStatSN (requests) or ExpCmdSN (responses).</summary>
    public uint Field28 { get => U32(28); set => SetU32(28, value); }

    public uint ExpStatSN { get => Field28; set => Field28 = value; }
    public uint ExpCmdSN { get => Field28; set => Field28 = value; }

    /// <summary>Bytes 32-35: MaxCmdSN (responses); first CDB bytes in SCSI Command.</summary>
    public uint MaxCmdSN { get => U32(32); set => SetU32(32, value); }

    /// <summary>Bytes 36-39: DataSN (Data-In/Out), R2TSN (R2T), ExpDataSN (SCSI Response), AsyncEvent byte 36.</summary>
    public uint Field36 { get => U32(36); set => SetU32(36, value); }

    public uint DataSN { get => Field36; set => Field36 = value; }

    /// <summary>Bytes 40-43: Buffer Offset (Data-In/Out, R2T), Bidirectional Read Residual (SCSI Response).</summary>
    public uint BufferOffset { get => U32(40); set => SetU32(40, value); }

    /// <summary>Bytes 44-47: Residual Count (SCSI Response, Data-In with S) or Desired Data Transfer Length (R2T).</summary>
    public uint Field44 { get => U32(44); set => SetU32(44, value); }

    public uint ResidualCount { get => Field44; set => Field44 = value; }
    public uint DesiredDataTransferLength { get => Field44; set => Field44 = value; }

    /// <summary>Bytes 32-47 of a SCSI Command: the CDB, zero-padded to 16 bytes.</summary>
    public Span<byte> Cdb => Header.AsSpan(32, 16);

    /// <summary>True for opcodes a target sends (20h-3Fh).</summary>
    public bool IsTargetPdu => (Header[0] & 0x20) != 0;

    uint U32(int at) => BinaryPrimitives.ReadUInt32BigEndian(Header.AsSpan(at));
    void SetU32(int at, uint v) => BinaryPrimitives.WriteUInt32BigEndian(Header.AsSpan(at), v);
    ulong U64(int at) => BinaryPrimitives.ReadUInt64BigEndian(Header.AsSpan(at));
    void SetU64(int at, ulong v) => BinaryPrimitives.WriteUInt64BigEndian(Header.AsSpan(at), v);

    public override string ToString() =>
        $"{Opcode} ({(byte)Opcode:X2}h) flags {Flags:X2}h ITT {InitiatorTaskTag:X8}h data {DataSegmentLength} bytes";
}
