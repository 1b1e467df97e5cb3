using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;

namespace Offhost.Formats.Tape.Label;

/// <summary>
/// Encodes and decodes the <see cref="VolumeLabel"/> record (docs/formats/tape-format.md, "Volume label").
/// Bytes 0-79 are an ANSI X3.27 VOL1 label so any tape tool that knows ANSI labels shows the serial; bytes
/// 80-511 are the versioned Offhost extension protected by xxHash64. Thread-safe (stateless).
/// </summary>
public static class VolumeLabelCodec
{
    /// <summary>Size of the label record.</summary>
    public const int RecordBytes = 512;

    /// <summary>Current (and only) version of the extension; decoding refuses newer majors.</summary>
    public const ushort FormatVersion = 1;

    public const int MaxVolumeIdChars = 6;

    static ReadOnlySpan<byte> ExtensionMagic => "OFFHOSTV"u8;
    static ReadOnlySpan<byte> ImplementationId => "OFFHOST      "u8; // 13 bytes, ANSI field 24-36

    const int ChecksumOffset = RecordBytes - 8;

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="volumeId"/> is a valid serial.</summary>
    public static void ValidateVolumeId(string volumeId)
    {
        if (volumeId.Length is 0 or > MaxVolumeIdChars || !volumeId.All(c => c is >= 'A' and <= 'Z' or >= '0' and <= '9'))
            throw new ArgumentException($"volume label '{volumeId}' must be 1 to {MaxVolumeIdChars} characters of A-Z and 0-9");
    }

    public static byte[] Encode(VolumeLabel label)
    {
        ValidateVolumeId(label.VolumeId);
        if (label.CapacityBytes <= 0) throw new ArgumentOutOfRangeException(nameof(label), "capacity must be positive");
        if (label.EarlyWarningBytes < 0 || label.EarlyWarningBytes >= label.CapacityBytes)
            throw new ArgumentOutOfRangeException(nameof(label), "early-warning zone must be smaller than the capacity");
        var b = new byte[RecordBytes];
        b.AsSpan(0, 80).Fill((byte)' ');
        "VOL1"u8.CopyTo(b);
        Encoding.ASCII.GetBytes(label.VolumeId, b.AsSpan(4));
        ImplementationId.CopyTo(b.AsSpan(24));
        b[79] = (byte)'4';
        ExtensionMagic.CopyTo(b.AsSpan(80));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(88), FormatVersion);
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(92), label.CapacityBytes);
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(100), label.EarlyWarningBytes);
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(108), label.Created.UnixSeconds);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(116), label.Created.Nanoseconds);
        label.VolumeUuid.TryWriteBytes(b.AsSpan(120, 16), bigEndian: true, out _);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(ChecksumOffset), XxHash64.HashToUInt64(b.AsSpan(0, ChecksumOffset)));
        return b;
    }

    /// <summary>True when <paramref name="record"/> looks like an Offhost label (VOL1 + extension magic); a
    /// record that is not is simply not labelled, and <see cref="Decode"/> is not called.</summary>
    public static bool IsVolumeLabel(ReadOnlySpan<byte> record) =>
        record.Length >= 88 && record.StartsWith("VOL1"u8) && record.Slice(80, 8).SequenceEqual(ExtensionMagic);

    /// <param name="record">The first record of tape file 0.</param>
    /// <param name="recordOffsetBytes">Offset of the record's data on the medium, for error messages.</param>
    public static VolumeLabel Decode(ReadOnlySpan<byte> record, long recordOffsetBytes)
    {
        const string S = "Offhost volume label";
        if (record.Length != RecordBytes)
            CorruptStructure.Throw(S, recordOffsetBytes, $"record is {record.Length} bytes, expected {RecordBytes}");
        CorruptStructure.Check(IsVolumeLabel(record), S, recordOffsetBytes, "no VOL1 / OFFHOSTV signature");
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(record[88..]);
        CorruptStructure.Check(version == FormatVersion, S, recordOffsetBytes + 88, $"unsupported label version {version} (this program reads version {FormatVersion})");
        ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(record[ChecksumOffset..]);
        ulong actual = XxHash64.HashToUInt64(record[..ChecksumOffset]);
        CorruptStructure.Check(stored == actual, S, recordOffsetBytes + ChecksumOffset, $"xxHash64 {stored:X16} does not match contents {actual:X16}");
        string id = Encoding.ASCII.GetString(record.Slice(4, 6)).TrimEnd(' ');
        try { ValidateVolumeId(id); }
        catch (ArgumentException e) { CorruptStructure.Throw(S, recordOffsetBytes + 4, e.Message); }
        long capacity = BinaryPrimitives.ReadInt64LittleEndian(record[92..]);
        long earlyWarning = BinaryPrimitives.ReadInt64LittleEndian(record[100..]);
        CorruptStructure.Check(capacity > 0 && earlyWarning >= 0 && earlyWarning < capacity, S, recordOffsetBytes + 92,
            $"capacity {capacity} / early warning {earlyWarning} out of range");
        int nanos = BinaryPrimitives.ReadInt32LittleEndian(record[116..]);
        CorruptStructure.Check(nanos is >= 0 and < 1_000_000_000, S, recordOffsetBytes + 116, $"nanoseconds {nanos} out of range");
        var created = new MapTime(BinaryPrimitives.ReadInt64LittleEndian(record[108..]), nanos);
        return new VolumeLabel(id, capacity, earlyWarning, created, new Guid(record.Slice(120, 16), bigEndian: true));
    }
}
