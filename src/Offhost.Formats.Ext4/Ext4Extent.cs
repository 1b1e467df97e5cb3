using System.Buffers.Binary;

namespace Offhost.Formats.Ext4;

/// <summary>
/// <c>struct ext4_extent</c> (12 bytes), a leaf entry: a run of file-system blocks. <c>ee_len</c> above 32768 marks an
/// unwritten (preallocated) extent of <c>ee_len − 32768</c> blocks, which reads as zeros.
/// </summary>
public readonly record struct Ext4Extent(uint FirstLogicalBlock, ushort RawLength, ulong FirstPhysicalBlock)
{
    public const int Size = 12;
    const ushort MaxInitializedLength = 32768;

    public bool IsUnwritten => RawLength > MaxInitializedLength;
    /// <summary>Length in file-system blocks.</summary>
    public uint LengthBlocks => IsUnwritten ? (uint)(RawLength - MaxInitializedLength) : RawLength;

    /// <summary>Parses 12 bytes; the caller has checked they are there.</summary>
    public static Ext4Extent Read(ReadOnlySpan<byte> e) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(e),
        BinaryPrimitives.ReadUInt16LittleEndian(e[4..]),
        (ulong)BinaryPrimitives.ReadUInt16LittleEndian(e[6..]) << 32 | BinaryPrimitives.ReadUInt32LittleEndian(e[8..]));
}
