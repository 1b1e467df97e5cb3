using System.Buffers.Binary;
using System.Text;
using Offhost.Core.Errors;

namespace Offhost.Formats.Ext4;

/// <summary>
/// Extended attributes: the in-inode area after <c>i_extra_isize</c> (<c>ext4_xattr_ibody_header</c>) and the
/// external block (<c>ext4_xattr_header</c>, 32 bytes). Entries are <c>struct ext4_xattr_entry</c>; names get
/// their prefix from <c>e_name_index</c>. POSIX ACLs are converted from the compact on-disk form to the form the
/// VFS returns (what <c>getfattr</c> shows and <c>setfattr</c> accepts). Thread-safe (stateless).
/// </summary>
public static class Ext4Xattr
{
    public const uint Magic = 0xEA020000;
    public const int BlockHeaderSize = 32;
    const int EntryHeaderSize = 16;
    /// <summary>The kernel's limit on one value (<c>XATTR_SIZE_MAX</c>).</summary>
    public const int MaxValueBytes = 65536;

    /// <summary>A value stored in its own inode (ea_inode); the caller reads it.</summary>
    public readonly record struct ValueInInode(string Name, uint Inode, uint SizeBytes);

    static string? Prefix(byte index) => index switch
    {
        1 => "user.",
        2 => "system.posix_acl_access",
        3 => "system.posix_acl_default",
        4 => "trusted.",
        6 => "security.",
        7 => "system.",
        8 => "system.richacl",
        _ => null,
    };

    /// <summary>
    /// Parses the in-inode area (starting at the 4-byte magic). Value offsets count from the first entry.
    /// <paramref name="areaDeviceOffset"/> is the absolute byte offset of <paramref name="area"/> for messages.
    /// An area without the magic holds no attributes.
    /// </summary>
    public static void ReadInodeBody(ReadOnlySpan<byte> area, long areaDeviceOffset, IDictionary<string, ReadOnlyMemory<byte>> into, List<ValueInInode>? external)
    {
        if (area.Length < 4 || BinaryPrimitives.ReadUInt32LittleEndian(area) != Magic) return;
        ReadEntries(area[4..], areaDeviceOffset + 4, area[4..], into, external);
    }

    /// <summary>
    /// Parses an external attribute block; verifies its checksum first when <paramref name="checksumSeed"/> is given
    /// (metadata_csum: CRC32C over the block number and the block with <c>h_checksum</c> zeroed).
    /// </summary>
    public static void ReadBlock(ReadOnlySpan<byte> block, ulong blockNumber, long blockDeviceOffset, uint? checksumSeed,
        IDictionary<string, ReadOnlyMemory<byte>> into, List<ValueInInode>? external)
    {
        const string name = "ext4_xattr_header";
        if (block.Length < BlockHeaderSize) CorruptStructure.Truncated(name, blockDeviceOffset, BlockHeaderSize, block.Length);
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(block);
        CorruptStructure.Check(magic == Magic, name, blockDeviceOffset, $"bad magic 0x{magic:X8} (expected 0xEA020000)");
        uint blocks = BinaryPrimitives.ReadUInt32LittleEndian(block[8..]);
        CorruptStructure.Check(blocks == 1, name, blockDeviceOffset, $"h_blocks {blocks} (only 1 is valid)");
        if (checksumSeed is uint seed)
        {
            Span<byte> le = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(le, blockNumber);
            uint c = Ext4Crc.Crc32C(seed, le);
            c = Ext4Crc.Crc32C(c, block[..0x10]);
            c = Ext4Crc.Crc32C(c, stackalloc byte[4]);
            c = Ext4Crc.Crc32C(c, block[0x14..]);
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(block[0x10..]);
            CorruptStructure.Check(stored == c, name, blockDeviceOffset, $"xattr block checksum mismatch (stored 0x{stored:X8}, computed 0x{c:X8})");
        }
        ReadEntries(block[BlockHeaderSize..], blockDeviceOffset + BlockHeaderSize, block, into, external, valueBaseDeviceOffset: blockDeviceOffset);
    }

    static void ReadEntries(ReadOnlySpan<byte> entries, long entriesDeviceOffset, ReadOnlySpan<byte> valueBase,
        IDictionary<string, ReadOnlyMemory<byte>> into, List<ValueInInode>? external, long? valueBaseDeviceOffset = null)
    {
        long baseAt = valueBaseDeviceOffset ?? entriesDeviceOffset;
        int pos = 0;
        while (true)
        {
            long at = entriesDeviceOffset + pos;
            if (pos + 4 > entries.Length) break; // The list may end exactly at the end of the area.
            if (BinaryPrimitives.ReadUInt32LittleEndian(entries[pos..]) == 0) break;
            CorruptStructure.Check(pos + EntryHeaderSize <= entries.Length, "ext4_xattr_entry", at, "entry runs past the end of its area");
            byte nameLen = entries[pos];
            byte index = entries[pos + 1];
            ushort valueOffs = BinaryPrimitives.ReadUInt16LittleEndian(entries[(pos + 2)..]);
            uint valueInum = BinaryPrimitives.ReadUInt32LittleEndian(entries[(pos + 4)..]);
            uint valueSize = BinaryPrimitives.ReadUInt32LittleEndian(entries[(pos + 8)..]);
            CorruptStructure.Check(nameLen > 0, "ext4_xattr_entry", at, "e_name_len is 0");
            CorruptStructure.Check(pos + EntryHeaderSize + nameLen <= entries.Length, "ext4_xattr_entry", at, $"name of {nameLen} bytes runs past the end of its area");
            var nameBytes = entries.Slice(pos + EntryHeaderSize, nameLen);
            string suffix = Encoding.UTF8.GetString(nameBytes);
            string? prefix = Prefix(index);
            string full = prefix is null ? $"unknown_index_{index}.{suffix}" : prefix + suffix;
            CorruptStructure.Check(valueSize <= MaxValueBytes, "ext4_xattr_entry", at, $"e_value_size {valueSize} exceeds {MaxValueBytes}");
            if (valueInum != 0)
            {
                external?.Add(new ValueInInode(full, valueInum, valueSize));
            }
            else
            {
                CorruptStructure.Check((long)valueOffs + valueSize <= valueBase.Length, "ext4_xattr_entry", at,
                    $"value of attribute '{full}' ({valueSize} bytes at offset {valueOffs}) runs past its block ({valueBase.Length} bytes)");
                var value = valueBase.Slice(valueOffs, (int)valueSize);
                if (full != "system.data")
                    into[full] = index is 2 or 3 ? AclToXattr(value, baseAt + valueOffs) : value.ToArray();
                else
                    into[full] = value.ToArray();
            }
            pos += (EntryHeaderSize + nameLen + 3) & ~3;
        }
    }

    /// <summary>
    /// Converts an on-disk ACL (<c>ext4_acl_header</c> version 1, entries of 4 bytes, or 8 with an id for named users
    /// and groups) to the VFS xattr form (version 2, every entry 8 bytes, id 0xFFFFFFFF where there is none).
    /// </summary>
    public static byte[] AclToXattr(ReadOnlySpan<byte> disk, long deviceOffset)
    {
        const string name = "ext4_acl_header";
        CorruptStructure.Check(disk.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(disk) == 1, name, deviceOffset, "missing ACL version 1 header");
        var output = new List<byte>(disk.Length * 2);
        void U32(uint v) { Span<byte> t = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(t, v); foreach (var b in t) output.Add(b); }
        void U16(ushort v) { output.Add((byte)v); output.Add((byte)(v >> 8)); }
        U32(2);
        int pos = 4;
        while (pos < disk.Length)
        {
            CorruptStructure.Check(pos + 4 <= disk.Length, name, deviceOffset + pos, "truncated ACL entry");
            ushort tag = BinaryPrimitives.ReadUInt16LittleEndian(disk[pos..]);
            ushort perm = BinaryPrimitives.ReadUInt16LittleEndian(disk[(pos + 2)..]);
            uint id = 0xFFFFFFFF;
            if (tag is 0x02 or 0x08)
            {
                CorruptStructure.Check(pos + 8 <= disk.Length, name, deviceOffset + pos, "truncated named ACL entry");
                id = BinaryPrimitives.ReadUInt32LittleEndian(disk[(pos + 4)..]);
                pos += 8;
            }
            else
            {
                CorruptStructure.Check(tag is 0x01 or 0x04 or 0x10 or 0x20, name, deviceOffset + pos, $"unknown ACL tag 0x{tag:X}");
                pos += 4;
            }
            U16(tag); U16(perm); U32(id);
        }
        return [.. output];
    }
}
