using System.Buffers.Binary;
using Offhost.Core.Errors;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>COPY MANAGER STATUS of the COPY STATUS data.</summary>
public enum CopyManagerStatus : byte
{
    InProgress = 0x00,
    CompletedWithoutErrors = 0x01,
    CompletedWithErrors = 0x02,
}

/// <summary>TRANSFER COUNT UNITS: the power of 1024 the TRANSFER COUNT is in (00h bytes … 06h EiB).</summary>
public enum TransferCountUnits : byte
{
    Bytes = 0x00,
    Kibibytes = 0x01,
    Mebibytes = 0x02,
    Gibibytes = 0x03,
    Tebibytes = 0x04,
    Pebibytes = 0x05,
    Exbibytes = 0x06,
}

/// <summary>RECEIVE COPY RESULTS COPY STATUS data (service action 00h, 12 bytes): how far an EXTENDED COPY got. Immutable.</summary>
public sealed record CopyStatus(CopyManagerStatus Status, ushort SegmentsProcessed, TransferCountUnits Units, uint TransferCount)
{
    public const int LengthBytes = 12;

    /// <summary>HDD: held data had to be discarded.</summary>
    public bool HeldDataDiscarded { get; init; }

    /// <summary>Builds the status with the finest unit in which <paramref name="transferredBytes"/> fits 32 bits (rounded down).</summary>
    public static CopyStatus FromBytes(CopyManagerStatus status, int segmentsProcessed, long transferredBytes, bool heldDataDiscarded = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(transferredBytes);
        var units = TransferCountUnits.Bytes;
        ulong count = (ulong)transferredBytes;
        while (count > uint.MaxValue) { count >>= 10; units++; }
        return new CopyStatus(status, (ushort)Math.Min(segmentsProcessed, ushort.MaxValue), units, (uint)count) { HeldDataDiscarded = heldDataDiscarded };
    }

    public int Write(Span<byte> dst)
    {
        var d = dst[..LengthBytes];
        d.Clear();
        BinaryPrimitives.WriteUInt32BigEndian(d, LengthBytes - 4);
        d[4] = (byte)((HeldDataDiscarded ? 0x80 : 0) | ((byte)Status & 0x7F));
        BinaryPrimitives.WriteUInt16BigEndian(d[5..], SegmentsProcessed);
        d[7] = (byte)Units;
        BinaryPrimitives.WriteUInt32BigEndian(d[8..], TransferCount);
        return LengthBytes;
    }

    public byte[] ToBytes()
    {
        var b = new byte[LengthBytes];
        Write(b);
        return b;
    }

    public static CopyStatus Read(ReadOnlySpan<byte> src)
    {
        if (src.Length < LengthBytes) CorruptStructure.Truncated("COPY STATUS", 0, LengthBytes, src.Length);
        uint available = BinaryPrimitives.ReadUInt32BigEndian(src);
        CorruptStructure.Check(available >= 8, "COPY STATUS", 0, $"AVAILABLE DATA {available} is less than 8");
        return new CopyStatus((CopyManagerStatus)(src[4] & 0x7F), BinaryPrimitives.ReadUInt16BigEndian(src[5..]),
            (TransferCountUnits)src[7], BinaryPrimitives.ReadUInt32BigEndian(src[8..]))
        { HeldDataDiscarded = (src[4] & 0x80) != 0 };
    }
}
