using System.Runtime.CompilerServices;
using System.Buffers.Binary;
using Offhost.Core.Errors;

namespace Offhost.Formats.Ntfs;

/// <summary>
/// A FILE record of the MFT (MFT_RECORD): a 48-byte header, the update sequence array and the attributes. Records are
/// protected by the update sequence ("fixups"): the last two bytes of every 512-byte stride hold the update sequence
/// number, and the real bytes are kept in the array. <see cref="ApplyFixups"/> checks every stride and restores them.
/// </summary>
internal static class FileRecord
{
    public const int StrideBytes = 512;
    public const int HeaderBytes = 0x30;

    const int UsaOffsetOffset = 0x04;
    const int UsaCountOffset = 0x06;
    const int SequenceOffset = 0x10;
    const int FirstAttributeOffset = 0x14;
    const int FlagsOffset = 0x16;
    const int BytesInUseOffset = 0x18;
    const int BytesAllocatedOffset = 0x1C;
    const int BaseRecordOffset = 0x20;

    public const ushort FlagInUse = 0x0001;
    public const ushort FlagDirectory = 0x0002;

    static ReadOnlySpan<byte> FileMagic => "FILE"u8;
    static ReadOnlySpan<byte> BaadMagic => "BAAD"u8;

    public static string Name(ulong number) => $"FILE record {number}";

    /// <summary>
    /// Verifies the update sequence and undoes the fixups in place. Returns false for a slot that was never
    /// written (no magic at all: zeros). Throws <see cref="CorruptStructureException"/> for a "BAAD" record, a foreign
    /// magic, or any stride whose update sequence number does not match (a torn write).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool ApplyFixups(Span<byte> record, ulong number, long deviceOffset)
    {
        if (record.Length < HeaderBytes || record.Length % StrideBytes != 0)
            CorruptStructure.Throw(Name(number), deviceOffset, $"record size {record.Length} is not a multiple of {StrideBytes}");
        var magic = record[..4];
        if (!magic.SequenceEqual(FileMagic))
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(magic) == 0) return false;
            if (magic.SequenceEqual(BaadMagic))
                CorruptStructure.Throw(Name(number), deviceOffset, "record is marked BAAD (a multi-sector transfer failed)");
            CorruptStructure.Throw(Name(number), deviceOffset, $"magic is 0x{BinaryPrimitives.ReadUInt32LittleEndian(magic):X8}, not \"FILE\"");
        }
        int usaOffset = BinaryPrimitives.ReadUInt16LittleEndian(record[UsaOffsetOffset..]);
        int usaCount = BinaryPrimitives.ReadUInt16LittleEndian(record[UsaCountOffset..]);
        int strides = record.Length / StrideBytes;
        if (usaCount != strides + 1)
            CorruptStructure.Throw(Name(number), deviceOffset + UsaCountOffset, $"update sequence count {usaCount} does not match {strides} strides of {StrideBytes} bytes");
        if (usaOffset < 0x28 || (usaOffset & 1) != 0 || usaOffset + usaCount * 2 > StrideBytes - 2)
            CorruptStructure.Throw(Name(number), deviceOffset + UsaOffsetOffset, $"update sequence array offset {usaOffset} is invalid");
        ushort usn = BinaryPrimitives.ReadUInt16LittleEndian(record[usaOffset..]);
        for (int i = 0; i < strides; i++)
        {
            int end = (i + 1) * StrideBytes - 2;
            if (BinaryPrimitives.ReadUInt16LittleEndian(record[end..]) != usn)
                CorruptStructure.Throw(Name(number), deviceOffset + end,
                    $"update sequence number mismatch in stride {i} (torn write): expected 0x{usn:X4}, found 0x{BinaryPrimitives.ReadUInt16LittleEndian(record[end..]):X4}");
        }
        for (int i = 0; i < strides; i++)
        {
            int end = (i + 1) * StrideBytes - 2;
            record[end] = record[usaOffset + 2 + i * 2];
            record[end + 1] = record[usaOffset + 3 + i * 2];
        }
        return true;
    }

    public static ushort Flags(ReadOnlySpan<byte> record) => BinaryPrimitives.ReadUInt16LittleEndian(record[FlagsOffset..]);
    public static ushort Sequence(ReadOnlySpan<byte> record) => BinaryPrimitives.ReadUInt16LittleEndian(record[SequenceOffset..]);
    public static ulong BaseReference(ReadOnlySpan<byte> record) => BinaryPrimitives.ReadUInt64LittleEndian(record[BaseRecordOffset..]);

    /// <summary>Enumerates the attributes of a record whose fixups have been applied; validates the header first.</summary>
    public static AttributeEnumerator Attributes(ReadOnlySpan<byte> record, ulong number, long deviceOffset)
    {
        int first = BinaryPrimitives.ReadUInt16LittleEndian(record[FirstAttributeOffset..]);
        uint inUse = BinaryPrimitives.ReadUInt32LittleEndian(record[BytesInUseOffset..]);
        uint allocated = BinaryPrimitives.ReadUInt32LittleEndian(record[BytesAllocatedOffset..]);
        if (allocated != record.Length)
            CorruptStructure.Throw(Name(number), deviceOffset + BytesAllocatedOffset, $"allocated size {allocated} differs from the record size {record.Length}");
        if (inUse > record.Length || inUse < HeaderBytes)
            CorruptStructure.Throw(Name(number), deviceOffset + BytesInUseOffset, $"bytes in use {inUse} exceed the record size {record.Length}");
        if (first < HeaderBytes - 8 || first >= inUse || (first & 7) != 0)
            CorruptStructure.Throw(Name(number), deviceOffset + FirstAttributeOffset, $"first attribute offset {first} is outside the bytes in use ({inUse})");
        return new AttributeEnumerator(record[..(int)inUse], first, number, deviceOffset);
    }

    /// <summary>Splits an MFT reference (48-bit record number, 16-bit sequence).</summary>
    public static (ulong Record, ushort Sequence) SplitReference(ulong reference) => (reference & 0x0000_FFFF_FFFF_FFFF, (ushort)(reference >> 48));
}

/// <summary>Walks the attributes of one FILE record, validating each header against the record's bytes in use.</summary>
internal ref struct AttributeEnumerator
{
    readonly ReadOnlySpan<byte> record;
    readonly ulong number;
    readonly long deviceOffset;
    int next;
    bool done;

    public AttributeEnumerator(ReadOnlySpan<byte> record, int first, ulong number, long deviceOffset)
    {
        this.record = record;
        next = first;
        this.number = number;
        this.deviceOffset = deviceOffset;
        Current = default;
    }

    public AttributeRecord Current { get; private set; }

    public readonly AttributeEnumerator GetEnumerator() => this;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool MoveNext()
    {
        if (done) return false;
        int pos = next;
        if (pos > record.Length - 4)
            CorruptStructure.Throw(FileRecord.Name(number), deviceOffset + pos, "attribute list runs past the bytes in use without an end marker");
        uint type = BinaryPrimitives.ReadUInt32LittleEndian(record[pos..]);
        if (type == (uint)AttributeType.End)
        {
            done = true;
            return false;
        }
        if (pos > record.Length - 16)
            CorruptStructure.Throw(FileRecord.Name(number), deviceOffset + pos, $"attribute 0x{type:X} header runs past the record end");
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(record[(pos + 4)..]);
        if (length < 0x18 || length > (uint)(record.Length - pos) || (length & 7) != 0)
            CorruptStructure.Throw(FileRecord.Name(number), deviceOffset + pos + 4,
                $"attribute 0x{type:X} length {length} runs past the record end ({record.Length - pos} bytes left) or is malformed");
        Current = AttributeRecord.Read(record.Slice(pos, (int)length), pos, number, deviceOffset + pos);
        next = pos + (int)length;
        return true;
    }
}
