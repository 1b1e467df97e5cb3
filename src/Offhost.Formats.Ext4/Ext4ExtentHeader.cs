using System.Buffers.Binary;
using Offhost.Core.Errors;

namespace Offhost.Formats.Ext4;

/// <summary>
/// <c>struct ext4_extent_header</c> (12 bytes): magic 0xF30A, entries in use, capacity and depth (0 = leaf).
/// <see cref="Read"/> validates magic, <c>eh_entries ≤ eh_max</c>, the capacity against the room available and depth ≤ 5.
/// </summary>
public readonly record struct Ext4ExtentHeader(ushort Entries, ushort Max, ushort Depth)
{
    public const int Size = 12;
    public const ushort Magic = 0xF30A;
    /// <summary>The kernel's bound on tree depth (<c>EXT4_MAX_EXTENT_DEPTH</c>).</summary>
    public const int MaxDepth = 5;
    const string Name = "ext4_extent_header";

    /// <summary>Parses the header at the start of <paramref name="node"/> (the 60-byte root or a whole tree block).</summary>
    public static Ext4ExtentHeader Read(ReadOnlySpan<byte> node, long deviceOffset)
    {
        if (node.Length < Size) CorruptStructure.Truncated(Name, deviceOffset, Size, node.Length);
        ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(node);
        CorruptStructure.Check(magic == Magic, Name, deviceOffset, $"bad magic 0x{magic:X4} (expected 0xF30A)");
        ushort entries = BinaryPrimitives.ReadUInt16LittleEndian(node[2..]);
        ushort max = BinaryPrimitives.ReadUInt16LittleEndian(node[4..]);
        ushort depth = BinaryPrimitives.ReadUInt16LittleEndian(node[6..]);
        CorruptStructure.Check(entries <= max, Name, deviceOffset, $"eh_entries {entries} exceeds eh_max {max}");
        int room = (node.Length - Size) / Ext4Extent.Size;
        CorruptStructure.Check(max >= 1 && max <= room, Name, deviceOffset, $"eh_max {max} does not fit the {node.Length}-byte node (room for {room})");
        CorruptStructure.Check(depth <= MaxDepth, Name, deviceOffset, $"eh_depth {depth} exceeds the maximum of {MaxDepth}");
        return new Ext4ExtentHeader(entries, max, depth);
    }
}
