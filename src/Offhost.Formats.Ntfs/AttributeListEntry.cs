using System.Buffers.Binary;
using Offhost.Core.Errors;

namespace Offhost.Formats.Ntfs;

/// <summary>One entry of $ATTRIBUTE_LIST (ATTR_LIST_ENTRY): which FILE record holds an attribute (or a piece of one starting at <see cref="LowestVcn"/>).</summary>
internal readonly record struct AttributeListEntry(AttributeType Type, long LowestVcn, ulong FileReference, int OffsetInList)
{
    const int MinEntryBytes = 0x1A;

    /// <summary>Decodes every entry; <paramref name="deviceOffset"/> is where the list's value starts (for errors).</summary>
    public static List<AttributeListEntry> ReadAll(ReadOnlySpan<byte> list, long deviceOffset)
    {
        const string S = "$ATTRIBUTE_LIST entry";
        var result = new List<AttributeListEntry>();
        int pos = 0;
        while (pos < list.Length)
        {
            if (list.Length - pos < MinEntryBytes)
            {
                // Trailing slack shorter than an entry is tolerated only when it is zero.
                if (list[pos..].ContainsAnyExcept((byte)0)) CorruptStructure.Truncated(S, deviceOffset + pos, MinEntryBytes, list.Length - pos);
                break;
            }
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(list[pos..]);
            int length = BinaryPrimitives.ReadUInt16LittleEndian(list[(pos + 4)..]);
            if (type == 0 && length == 0) break;
            int nameChars = list[pos + 6];
            int nameOffset = list[pos + 7];
            if (length < MinEntryBytes || length > list.Length - pos)
                CorruptStructure.Throw(S, deviceOffset + pos + 4, $"entry length {length} runs past the list end ({list.Length - pos} bytes left)");
            if (nameChars > 0 && nameOffset + nameChars * 2 > length)
                CorruptStructure.Throw(S, deviceOffset + pos + 6, "name runs past the entry end");
            long vcn = BinaryPrimitives.ReadInt64LittleEndian(list[(pos + 8)..]);
            ulong reference = BinaryPrimitives.ReadUInt64LittleEndian(list[(pos + 0x10)..]);
            result.Add(new AttributeListEntry((AttributeType)type, vcn, reference, pos));
            pos += length;
        }
        return result;
    }
}
