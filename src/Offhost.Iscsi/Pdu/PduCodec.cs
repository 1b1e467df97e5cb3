using Offhost.Iscsi.Digests;

namespace Offhost.Iscsi.Pdu;

/// <summary>
/// Serialises PDUs: BHS, AHS, header digest, data segment, zero padding to a 4-byte boundary, data digest
/// (RFC 7143 §11.2). The header part and the trailer (pad + data digest) are separate so a sender can
/// gather header, caller-owned data and trailer without copying the data. Stateless and thread-safe.
/// </summary>
public static class PduCodec
{
    /// <summary>Longest trailer: 3 pad bytes and a 4-byte data digest.</summary>
    public const int MaxTrailerLength = 7;

    public static int PadLength(int dataLength) => (4 - (dataLength & 3)) & 3;

    /// <summary>Bytes of BHS + AHS + header digest.</summary>
    public static int HeaderLength(IscsiPdu pdu, DigestOptions digests) =>
        IscsiPdu.BhsLength + pdu.AdditionalHeader.Length + (digests.Header ? Crc32C.DigestLength : 0);

    /// <summary>Bytes of pad + data digest following a data segment of <paramref name="dataLength"/> bytes.</summary>
    public static int TrailerLength(int dataLength, DigestOptions digests) =>
        dataLength == 0 ? 0 : PadLength(dataLength) + (digests.Data ? Crc32C.DigestLength : 0);

    public static int EncodedLength(IscsiPdu pdu, DigestOptions digests) =>
        HeaderLength(pdu, digests) + pdu.Data.Length + TrailerLength(pdu.Data.Length, digests);

    /// <summary>Fixes TotalAHSLength and DataSegmentLength from the segments, then writes BHS, AHS and header
    /// digest into <paramref name="destination"/>; returns bytes written.</summary>
    public static int WriteHeader(IscsiPdu pdu, DigestOptions digests, Span<byte> destination)
    {
        pdu.SetLengths();
        int length = HeaderLength(pdu, digests);
        if (destination.Length < length) throw new ArgumentException($"header needs {length} bytes", nameof(destination));
        pdu.Header.CopyTo(destination);
        pdu.AdditionalHeader.Span.CopyTo(destination[IscsiPdu.BhsLength..]);
        int at = IscsiPdu.BhsLength + pdu.AdditionalHeader.Length;
        if (digests.Header) Crc32C.Write(destination[at..], Crc32C.Compute(destination[..at]));
        return length;
    }

    /// <summary>Writes zero padding and the data digest for <paramref name="data"/>; returns bytes written.</summary>
    public static int WriteTrailer(ReadOnlySpan<byte> data, DigestOptions digests, Span<byte> destination)
    {
        if (data.Length == 0) return 0;
        int pad = PadLength(data.Length);
        int length = pad + (digests.Data ? Crc32C.DigestLength : 0);
        if (destination.Length < length) throw new ArgumentException($"trailer needs {length} bytes", nameof(destination));
        destination[..pad].Clear();
        if (digests.Data) Crc32C.Write(destination[pad..], Crc32C.Compute(data, destination[..pad]));
        return length;
    }

    /// <summary>The whole PDU as one array.</summary>
    public static byte[] Encode(IscsiPdu pdu, DigestOptions digests)
    {
        var bytes = new byte[EncodedLength(pdu, digests)];
        int at = WriteHeader(pdu, digests, bytes);
        pdu.Data.Span.CopyTo(bytes.AsSpan(at));
        at += pdu.Data.Length;
        WriteTrailer(pdu.Data.Span, digests, bytes.AsSpan(at));
        return bytes;
    }
}
