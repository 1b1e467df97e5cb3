using System.Buffers.Binary;
using Offhost.Core.Errors;

namespace Offhost.Formats.Ntfs;

/// <summary>$STANDARD_INFORMATION (0x10): the four file times (FILETIME, 100 ns ticks since 1601) and the DOS file attributes.</summary>
internal readonly record struct StandardInformation(long CreationTime, long ModificationTime, long MftChangeTime, long AccessTime, uint FileAttributes)
{
    /// <summary>NTFS 1.2 layout; NTFS 3.x appends owner, security and quota fields which the map does not need.</summary>
    public const int MinSize = 0x24;

    public static StandardInformation Read(ReadOnlySpan<byte> value, long deviceOffset)
    {
        if (value.Length < MinSize) CorruptStructure.Truncated("$STANDARD_INFORMATION", deviceOffset, MinSize, value.Length);
        return new StandardInformation(
            BinaryPrimitives.ReadInt64LittleEndian(value),
            BinaryPrimitives.ReadInt64LittleEndian(value[0x08..]),
            BinaryPrimitives.ReadInt64LittleEndian(value[0x10..]),
            BinaryPrimitives.ReadInt64LittleEndian(value[0x18..]),
            BinaryPrimitives.ReadUInt32LittleEndian(value[0x20..]));
    }
}
