using System.Buffers.Binary;

namespace Offhost.Formats.Ext4;

/// <summary><c>struct ext4_extent_idx</c> (12 bytes), an interior entry: the tree block covering logical blocks from <see cref="FirstLogicalBlock"/>.</summary>
public readonly record struct Ext4ExtentIndex(uint FirstLogicalBlock, ulong ChildBlock)
{
    public const int Size = 12;

    /// <summary>Parses 12 bytes; the caller has checked they are there.</summary>
    public static Ext4ExtentIndex Read(ReadOnlySpan<byte> e) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(e),
        (ulong)BinaryPrimitives.ReadUInt16LittleEndian(e[8..]) << 32 | BinaryPrimitives.ReadUInt32LittleEndian(e[4..]));
}
