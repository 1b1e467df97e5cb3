using System.Buffers.Binary;
using Offhost.Scsi.Sense;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>The 16-byte EXTENDED COPY (LID1) CDB, opcode 83h service action 00h. Immutable.</summary>
public readonly record struct ExtendedCopyCdb(uint ParameterListLengthBytes, byte Control = 0)
{
    public const byte OperationCode = 0x83;
    public const int LengthBytes = 16;

    /// <summary>Writes the CDB into <paramref name="dst"/> (at least 16 bytes); returns 16.</summary>
    public int Write(Span<byte> dst)
    {
        if (dst.Length < LengthBytes) throw new ArgumentException("CDB buffer must hold 16 bytes", nameof(dst));
        dst[..LengthBytes].Clear();
        dst[0] = OperationCode;
        BinaryPrimitives.WriteUInt32BigEndian(dst[10..], ParameterListLengthBytes);
        dst[15] = Control;
        return LengthBytes;
    }

    public byte[] ToBytes()
    {
        var b = new byte[LengthBytes];
        Write(b);
        return b;
    }

    /// <summary>Decodes a CDB. A wrong opcode or a service action other than LID1 (00h) is ILLEGAL REQUEST,
    /// INVALID COMMAND OPERATION CODE (20h/00h) with a CDB field pointer; a short CDB is INVALID FIELD IN CDB.</summary>
    public static ExtendedCopyCdb Read(ReadOnlySpan<byte> src)
    {
        if (src.Length < LengthBytes)
            throw new ExtendedCopyException(new SenseData(SenseKey.IllegalRequest, 0x24, 0x00), $"EXTENDED COPY CDB is {src.Length} bytes, needs 16");
        if (src[0] != OperationCode)
            throw ExtendedCopyException.InvalidCdbField(0x20, 0x00, 0, $"operation code {src[0]:X2}h is not EXTENDED COPY (83h)");
        if ((src[1] & 0x1F) != 0)
            throw ExtendedCopyException.InvalidCdbField(0x20, 0x00, 1, $"service action {src[1] & 0x1F:X2}h is not EXTENDED COPY(LID1)", bit: 4);
        return new ExtendedCopyCdb(BinaryPrimitives.ReadUInt32BigEndian(src[10..]), src[15]);
    }
}
