using System.Runtime.CompilerServices;
using System.Buffers.Binary;
using System.Text;
using Offhost.Core.Errors;

namespace Offhost.Formats.Ntfs;

/// <summary>
/// One attribute header (ATTR_RECORD) with its resident value or non-resident mapping pairs, as a view over the
/// record's bytes. Constructed only through <see cref="Read"/>, which bounds every offset and length.
/// </summary>
internal readonly ref struct AttributeRecord
{
    const int NonResidentOffset = 0x08;
    const int NameLengthOffset = 0x09;
    const int NameOffsetOffset = 0x0A;
    const int FlagsOffset = 0x0C;
    const int ValueLengthOffset = 0x10;
    const int ValueOffsetOffset = 0x14;
    const int LowestVcnOffset = 0x10;
    const int HighestVcnOffset = 0x18;
    const int MappingPairsOffsetOffset = 0x20;
    const int CompressionUnitOffset = 0x22;
    const int AllocatedSizeOffset = 0x28;
    const int DataSizeOffset = 0x30;
    const int InitializedSizeOffset = 0x38;
    const int NonResidentHeaderBytes = 0x40;

    public const ushort FlagCompressionMask = 0x00FF;
    public const ushort FlagEncrypted = 0x4000;
    public const ushort FlagSparse = 0x8000;

    /// <summary>Largest compression unit NTFS uses: 16 clusters (2^4).</summary>
    public const int MaxCompressionUnitLog2 = 4;

    public AttributeType Type { get; init; }
    public bool IsNonResident { get; init; }
    public ReadOnlySpan<byte> NameBytes { get; init; }
    public ushort Flags { get; init; }
    /// <summary>Offset of the attribute within its FILE record.</summary>
    public int OffsetInRecord { get; init; }
    /// <summary>Absolute device offset of the attribute header, for error messages.</summary>
    public long DeviceOffset { get; init; }
    public ReadOnlySpan<byte> Value { get; init; }
    /// <summary>Absolute device offset of a resident value's first byte.</summary>
    public long ValueDeviceOffset { get; init; }
    public long LowestVcn { get; init; }
    public long HighestVcn { get; init; }
    public ReadOnlySpan<byte> MappingPairs { get; init; }
    public long MappingPairsDeviceOffset { get; init; }
    public int CompressionUnitLog2 { get; init; }
    public long AllocatedSizeBytes { get; init; }
    public long DataSizeBytes { get; init; }
    public long InitializedSizeBytes { get; init; }

    public bool IsNamed => NameBytes.Length > 0;
    public string NameString() => NameBytes.Length == 0 ? "" : Encoding.Unicode.GetString(NameBytes);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static AttributeRecord Read(ReadOnlySpan<byte> attr, int offsetInRecord, ulong recordNumber, long deviceOffset)
    {
        // Built only when an error is thrown: this runs for every attribute of every record.
        string S() => $"{FileRecord.Name(recordNumber)} attribute";
        var type = (AttributeType)BinaryPrimitives.ReadUInt32LittleEndian(attr);
        bool nonResident = attr[NonResidentOffset] != 0;
        int nameChars = attr[NameLengthOffset];
        int nameOffset = BinaryPrimitives.ReadUInt16LittleEndian(attr[NameOffsetOffset..]);
        if (nameChars > 0 && (nameOffset + nameChars * 2 > attr.Length || nameOffset < 0x10))
            CorruptStructure.Throw(S(), deviceOffset + NameOffsetOffset, $"name of {nameChars} characters at {nameOffset} runs past the attribute end ({attr.Length} bytes)");
        var name = nameChars > 0 ? attr.Slice(nameOffset, nameChars * 2) : default;
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(attr[FlagsOffset..]);

        if (!nonResident)
        {
            uint valueLength = BinaryPrimitives.ReadUInt32LittleEndian(attr[ValueLengthOffset..]);
            int valueOffset = BinaryPrimitives.ReadUInt16LittleEndian(attr[ValueOffsetOffset..]);
            if (valueOffset > attr.Length || valueLength > (uint)(attr.Length - valueOffset) || (valueLength > 0 && valueOffset < 0x18))
                CorruptStructure.Throw(S(), deviceOffset + ValueLengthOffset, $"resident value of {valueLength} bytes at {valueOffset} runs past the attribute end ({attr.Length} bytes)");
            return new AttributeRecord
            {
                Type = type, IsNonResident = false, NameBytes = name, Flags = flags, OffsetInRecord = offsetInRecord,
                DeviceOffset = deviceOffset, Value = attr.Slice(valueOffset, (int)valueLength), ValueDeviceOffset = deviceOffset + valueOffset,
            };
        }

        if (attr.Length < NonResidentHeaderBytes)
            CorruptStructure.Throw(S(), deviceOffset + 4, $"non-resident attribute of {attr.Length} bytes is shorter than its header");
        long lowest = BinaryPrimitives.ReadInt64LittleEndian(attr[LowestVcnOffset..]);
        long highest = BinaryPrimitives.ReadInt64LittleEndian(attr[HighestVcnOffset..]);
        int mpOffset = BinaryPrimitives.ReadUInt16LittleEndian(attr[MappingPairsOffsetOffset..]);
        int cu = attr[CompressionUnitOffset];
        long allocated = BinaryPrimitives.ReadInt64LittleEndian(attr[AllocatedSizeOffset..]);
        long dataSize = BinaryPrimitives.ReadInt64LittleEndian(attr[DataSizeOffset..]);
        long initialized = BinaryPrimitives.ReadInt64LittleEndian(attr[InitializedSizeOffset..]);
        if (lowest < 0 || highest < -1 || highest < lowest - 1)
            CorruptStructure.Throw(S(), deviceOffset + LowestVcnOffset, $"VCN range {lowest}..{highest} is invalid");
        if (mpOffset < NonResidentHeaderBytes || mpOffset >= attr.Length)
            CorruptStructure.Throw(S(), deviceOffset + MappingPairsOffsetOffset, $"mapping pairs offset {mpOffset} is outside the attribute ({attr.Length} bytes)");
        if (cu > MaxCompressionUnitLog2)
            CorruptStructure.Throw(S(), deviceOffset + CompressionUnitOffset, $"compression unit 2^{cu} clusters is not supported by NTFS");
        if (lowest == 0 && (allocated < 0 || dataSize < 0 || initialized < 0 || dataSize > allocated || initialized > dataSize))
            CorruptStructure.Throw(S(), deviceOffset + AllocatedSizeOffset,
                $"sizes are inconsistent: allocated {allocated}, data {dataSize}, initialized {initialized}");
        return new AttributeRecord
        {
            Type = type, IsNonResident = true, NameBytes = name, Flags = flags, OffsetInRecord = offsetInRecord,
            DeviceOffset = deviceOffset, LowestVcn = lowest, HighestVcn = highest,
            MappingPairs = attr[mpOffset..], MappingPairsDeviceOffset = deviceOffset + mpOffset,
            CompressionUnitLog2 = cu, AllocatedSizeBytes = allocated, DataSizeBytes = dataSize, InitializedSizeBytes = initialized,
        };
    }
}
