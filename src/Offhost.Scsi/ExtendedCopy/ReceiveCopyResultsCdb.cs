using System.Buffers.Binary;
using Offhost.Scsi.Sense;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>RECEIVE COPY RESULTS service actions (LID1 and operating parameters).</summary>
public enum ReceiveCopyResultsServiceAction : byte
{
    CopyStatus = 0x00,
    ReceiveData = 0x01,
    OperatingParameters = 0x03,
    FailedSegmentDetails = 0x04,
}

/// <summary>The 16-byte RECEIVE COPY RESULTS CDB (opcode 84h). Immutable.</summary>
public readonly record struct ReceiveCopyResultsCdb(ReceiveCopyResultsServiceAction ServiceAction, byte ListIdentifier,
    uint AllocationLengthBytes, byte Control = 0)
{
    public const byte OperationCode = 0x84;
    public const int LengthBytes = 16;

    public int Write(Span<byte> dst)
    {
        if (dst.Length < LengthBytes) throw new ArgumentException("CDB buffer must hold 16 bytes", nameof(dst));
        dst[..LengthBytes].Clear();
        dst[0] = OperationCode;
        dst[1] = (byte)((byte)ServiceAction & 0x1F);
        dst[2] = ListIdentifier;
        BinaryPrimitives.WriteUInt32BigEndian(dst[10..], AllocationLengthBytes);
        dst[15] = Control;
        return LengthBytes;
    }

    public byte[] ToBytes()
    {
        var b = new byte[LengthBytes];
        Write(b);
        return b;
    }

    /// <summary>Decodes the CDB; an unsupported service action is ILLEGAL REQUEST, INVALID FIELD IN CDB (24h/00h) pointing at byte 1.</summary>
    public static ReceiveCopyResultsCdb Read(ReadOnlySpan<byte> src)
    {
        if (src.Length < LengthBytes)
            throw new ExtendedCopyException(new SenseData(SenseKey.IllegalRequest, 0x24, 0x00), $"RECEIVE COPY RESULTS CDB is {src.Length} bytes, needs 16");
        if (src[0] != OperationCode)
            throw ExtendedCopyException.InvalidCdbField(0x20, 0x00, 0, $"operation code {src[0]:X2}h is not RECEIVE COPY RESULTS (84h)");
        var sa = (ReceiveCopyResultsServiceAction)(src[1] & 0x1F);
        if (sa is not (ReceiveCopyResultsServiceAction.CopyStatus or ReceiveCopyResultsServiceAction.ReceiveData
            or ReceiveCopyResultsServiceAction.OperatingParameters or ReceiveCopyResultsServiceAction.FailedSegmentDetails))
            throw ExtendedCopyException.InvalidCdbField(0x24, 0x00, 1, $"RECEIVE COPY RESULTS service action {(byte)sa:X2}h is not supported", bit: 4);
        return new ReceiveCopyResultsCdb(sa, src[2], BinaryPrimitives.ReadUInt32BigEndian(src[10..]), src[15]);
    }
}
