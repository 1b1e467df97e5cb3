using System.Buffers.Binary;
using Offhost.Core.Errors;

namespace Offhost.Formats.Tape.Simh;

/// <summary>
/// SIMH magtape (.tap) framing, see docs/formats/simh-tap.md. Pure functions over spans: writing is strict
/// (standard SIMH: little-endian lengths, odd records padded to even, no flags), reading is tolerant
/// (erase gaps and half-gaps skipped, bad-record flag reported, unpadded odd records of the "E11" variant accepted).
/// Thread-safe (stateless).
/// </summary>
public static class SimhCodec
{
    /// <summary>Size of one length word or marker.</summary>
    public const int LengthWordBytes = 4;

    /// <summary>Largest record length the 24-bit length field can express: 16 MiB - 1.</summary>
    public const int MaxRecordBytes = 0x00FF_FFFF;

    public const uint TapeMarkWord = 0x0000_0000;
    public const uint EraseGapWord = 0xFFFF_FFFE;
    public const uint EndOfMediumWord = 0xFFFF_FFFF;
    public const uint HalfGapWord = 0xFFFE_FFFF;
    public const uint BadRecordFlag = 0x8000_0000;
    const uint LengthMask = 0x00FF_FFFF;

    /// <summary>Bytes a record of <paramref name="dataBytes"/> occupies in the image: two length words, data, pad to even.</summary>
    public static long EncodedRecordBytes(int dataBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(dataBytes);
        return 2L * LengthWordBytes + dataBytes + (dataBytes & 1);
    }

    /// <summary>Writes the leading length word of a record into <paramref name="destination"/> (4 bytes).</summary>
    public static void WriteLeader(int dataBytes, Span<byte> destination)
    {
        CheckRecordLength(dataBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)dataBytes);
    }

    /// <summary>Writes the pad byte (if the length is odd) and the trailing length word; returns the bytes written (4 or 5).</summary>
    public static int WriteTrailer(int dataBytes, Span<byte> destination)
    {
        CheckRecordLength(dataBytes);
        int pad = dataBytes & 1;
        if (pad == 1) destination[0] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[pad..], (uint)dataBytes);
        return pad + LengthWordBytes;
    }

    /// <summary>Encodes a whole record; returns the bytes written (<see cref="EncodedRecordBytes"/>).</summary>
    public static int EncodeRecord(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        CheckRecordLength(data.Length);
        long total = EncodedRecordBytes(data.Length);
        if (destination.Length < total) throw new ArgumentException($"destination holds {destination.Length} bytes, record needs {total}", nameof(destination));
        WriteLeader(data.Length, destination);
        data.CopyTo(destination[LengthWordBytes..]);
        return LengthWordBytes + data.Length + WriteTrailer(data.Length, destination[(LengthWordBytes + data.Length)..]);
    }

    /// <summary>Writes one tape mark (4 bytes).</summary>
    public static void EncodeTapeMark(Span<byte> destination) =>
        BinaryPrimitives.WriteUInt32LittleEndian(destination, TapeMarkWord);

    /// <summary>
    /// Classifies the length word found at <paramref name="offsetBytes"/>. For records, returns the data length and
    /// flag; the caller still checks the trailing word with <see cref="CheckTrailer"/>.
    /// </summary>
    public static SimhObject ClassifyLeader(uint word, long offsetBytes)
    {
        switch (word)
        {
            case TapeMarkWord: return new SimhObject(SimhObjectKind.TapeMark, offsetBytes, LengthWordBytes, 0, false);
            case EraseGapWord: return new SimhObject(SimhObjectKind.EraseGap, offsetBytes, LengthWordBytes, 0, false);
            case EndOfMediumWord: return new SimhObject(SimhObjectKind.EndOfMedium, offsetBytes, 0, 0, false);
            case HalfGapWord: return new SimhObject(SimhObjectKind.HalfGap, offsetBytes, LengthWordBytes / 2, 0, false);
        }
        uint top = word & ~LengthMask;
        if (top != 0 && top != BadRecordFlag)
            CorruptStructure.Throw("SIMH length word", offsetBytes, $"reserved marker or flags {word:X8}h");
        int length = (int)(word & LengthMask);
        if (length == 0)
            CorruptStructure.Throw("SIMH length word", offsetBytes, $"bad-record flag on a zero-length record ({word:X8}h)");
        return new SimhObject(SimhObjectKind.Record, offsetBytes, EncodedRecordBytes(length), length, top == BadRecordFlag);
    }

    /// <summary>
    /// Checks the trailing length word of <paramref name="record"/>. <paramref name="trailer"/> holds the bytes that
    /// follow the data: for an odd record the pad byte and the word, with 5 bytes, else the word.
    /// Returns the record with its true extent: an odd record whose word directly follows its data (the unpadded
    /// E11 variant) is one byte shorter.
    /// </summary>
    public static SimhObject CheckTrailer(SimhObject record, ReadOnlySpan<byte> trailer)
    {
        long trailerOffset = record.DataOffsetBytes + record.DataBytes;
        int pad = record.DataBytes & 1;
        uint expected = (uint)record.DataBytes | (record.Bad ? BadRecordFlag : 0);
        if (trailer.Length >= pad + LengthWordBytes && BinaryPrimitives.ReadUInt32LittleEndian(trailer[pad..]) == expected)
            return record;
        if (pad == 1 && trailer.Length >= LengthWordBytes && BinaryPrimitives.ReadUInt32LittleEndian(trailer) == expected)
            return record with { TotalBytes = record.TotalBytes - 1 };
        if (trailer.Length < pad + LengthWordBytes)
            CorruptStructure.Truncated("SIMH record trailer", trailerOffset, pad + LengthWordBytes, trailer.Length);
        return CorruptStructure.Throw<SimhObject>("SIMH record trailer", trailerOffset + pad,
            $"trailing length {BinaryPrimitives.ReadUInt32LittleEndian(trailer[pad..]):X8}h does not match leading length {expected:X8}h of the record at byte offset {record.OffsetBytes}");
    }

    /// <summary>
    /// Reads the object that starts at <paramref name="offsetBytes"/> of <paramref name="image"/> (an image held in
    /// memory, offset 0 = beginning of tape). The physical end of the span is end of medium.
    /// </summary>
    public static SimhObject ReadObject(ReadOnlySpan<byte> image, long offsetBytes)
    {
        if (offsetBytes < 0 || offsetBytes > image.Length) throw new ArgumentOutOfRangeException(nameof(offsetBytes));
        int at = (int)offsetBytes;
        int left = image.Length - at;
        if (left == 0) return new SimhObject(SimhObjectKind.EndOfMedium, offsetBytes, 0, 0, false);
        if (left < LengthWordBytes)
            CorruptStructure.Truncated("SIMH length word", offsetBytes, LengthWordBytes, left);
        var obj = ClassifyLeader(BinaryPrimitives.ReadUInt32LittleEndian(image[at..]), offsetBytes);
        if (obj.Kind != SimhObjectKind.Record) return obj;
        long dataEnd = obj.DataOffsetBytes + obj.DataBytes;
        if (dataEnd > image.Length)
            CorruptStructure.Truncated($"SIMH record of {obj.DataBytes} bytes", offsetBytes, obj.TotalBytes, left);
        return CheckTrailer(obj, image[(int)dataEnd..Math.Min(image.Length, (int)dataEnd + 5)]);
    }

    /// <summary>
    /// Reads the object that ends at <paramref name="endOffsetBytes"/> (for spacing backwards): a tape mark or gap
    /// word, or a record found through its trailing length word. Returns null at beginning of tape.
    /// </summary>
    public static SimhObject? ReadObjectBefore(ReadOnlySpan<byte> image, long endOffsetBytes)
    {
        if (endOffsetBytes < 0 || endOffsetBytes > image.Length) throw new ArgumentOutOfRangeException(nameof(endOffsetBytes));
        if (endOffsetBytes == 0) return null;
        int end = (int)endOffsetBytes;
        if (end < LengthWordBytes) CorruptStructure.Truncated("SIMH length word", 0, LengthWordBytes, end);
        uint word = BinaryPrimitives.ReadUInt32LittleEndian(image[(end - LengthWordBytes)..]);
        var obj = ClassifyTrailer(word, endOffsetBytes);
        if (obj.Kind != SimhObjectKind.Record) return obj;
        if (obj.OffsetBytes < 0)
            CorruptStructure.Throw("SIMH record trailer", endOffsetBytes - LengthWordBytes, $"length {obj.DataBytes} reaches before beginning of tape");
        var forward = ClassifyLeader(BinaryPrimitives.ReadUInt32LittleEndian(image[(int)obj.OffsetBytes..]), obj.OffsetBytes);
        CorruptStructure.Check(forward.Kind == SimhObjectKind.Record && forward.DataBytes == obj.DataBytes && forward.Bad == obj.Bad,
            "SIMH record leader", obj.OffsetBytes, $"does not match the trailing length word at byte offset {endOffsetBytes - LengthWordBytes}");
        return obj;
    }

    /// <summary>Classifies the word that ends just before <paramref name="endOffsetBytes"/> when reading backwards;
    /// for records, <see cref="SimhObject.OffsetBytes"/> is computed from the length (padded form) and may be negative.</summary>
    public static SimhObject ClassifyTrailer(uint word, long endOffsetBytes)
    {
        long at = endOffsetBytes - LengthWordBytes;
        var obj = ClassifyLeader(word, at);
        if (obj.Kind == SimhObjectKind.HalfGap)
            return obj with { OffsetBytes = endOffsetBytes - obj.TotalBytes };
        if (obj.Kind == SimhObjectKind.EndOfMedium)
            return CorruptStructure.Throw<SimhObject>("SIMH length word", at, "end-of-medium marker found while spacing backwards");
        if (obj.Kind != SimhObjectKind.Record) return obj;
        return obj with { OffsetBytes = endOffsetBytes - obj.TotalBytes };
    }

    static void CheckRecordLength(int dataBytes)
    {
        if (dataBytes <= 0 || dataBytes > MaxRecordBytes)
            throw new ArgumentOutOfRangeException(nameof(dataBytes), dataBytes, $"a SIMH record holds 1 to {MaxRecordBytes} bytes");
    }
}
