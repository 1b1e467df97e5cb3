namespace Offhost.Formats.Tape.Index;

/// <summary>Constants of the index byte format; see docs/formats/tape-format.md. Values are frozen.</summary>
public static class TapeIndexFormat
{
    /// <summary>"OFFHIDX" then a NUL: the first 8 bytes of every index tape file.</summary>
    public static ReadOnlySpan<byte> Magic => "OFFHIDX\0"u8;

    /// <summary>Format major version; a decoder refuses other majors.</summary>
    public const ushort Version = 1;

    /// <summary>Largest single index record (record header included).</summary>
    public const int MaxRecordBytes = 1024 * 1024;

    public const int MaxSourceDescriptionBytes = 4096;

    /// <summary>Largest path or link target, in UTF-8 bytes.</summary>
    public const int MaxPathBytes = 65_535;

    public const int MaxStreamsPerEntry = 65_535;

    /// <summary>Record header: u32 length of the whole record, u8 type.</summary>
    public const int RecordHeaderBytes = 5;

    public const byte HeaderRecord = 1;
    public const byte EntryRecord = 2;
    public const byte EndRecord = 3;

    /// <summary>Fixed part of the header record's payload: version, flags, backup id, created s/ns, archive file, description length.</summary>
    internal const int HeaderFixedBytes = 2 + 2 + 16 + 8 + 4 + 8 + 2;

    /// <summary>Fixed part of an entry record's payload (without path, link and streams).</summary>
    internal const int EntryFixedBytes = 1 + 1 + 4 + 4 + 4 + 8 + 8 + 1 + 8 + 4 + 2 + 1 + 2 + 2;

    /// <summary>Fixed part of one stream inside an entry (without the name).</summary>
    internal const int StreamFixedBytes = 2 + 1 + 1 + 8 + 8 + 8 + 8;

    /// <summary>End record: record header, u64 entry count, u64 xxHash64 of every byte before the end record.</summary>
    public const int EndRecordBytes = RecordHeaderBytes + 8 + 8;
}
