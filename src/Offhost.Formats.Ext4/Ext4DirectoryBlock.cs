using System.Buffers.Binary;
using System.Text;
using Offhost.Core.Errors;

namespace Offhost.Formats.Ext4;

/// <summary>
/// Parses directory blocks linearly (<c>struct ext4_dir_entry_2</c> records chained by <c>rec_len</c>). Hashed (htree)
/// directories read the same way: their index blocks look like one empty record spanning the block (or, for the
/// root block, "." and ".." with ".." spanning the rest). With metadata_csum the leaf tail
/// (<c>ext4_dir_entry_tail</c>) or the index tail (<c>dx_tail</c>) is verified. Thread-safe (stateless).
/// </summary>
public static class Ext4DirectoryBlock
{
    const int HeaderSize = 8;
    const int TailSize = 12;
    const byte TailFileType = 0xDE;
    const string Name = "ext4_dir_entry_2";

    /// <summary>Whether <paramref name="block"/> is an htree interior node: one record with inode 0 spanning the block.</summary>
    public static bool IsIndexNode(ReadOnlySpan<byte> block) =>
        block.Length >= HeaderSize
        && BinaryPrimitives.ReadUInt32LittleEndian(block) == 0
        && DecodeRecLen(BinaryPrimitives.ReadUInt16LittleEndian(block[4..]), block.Length) == block.Length;

    static int DecodeRecLen(ushort raw, int blockSize) =>
        blockSize >= 65536 && (raw == 65535 || raw == 0) ? 65536 : raw;

    /// <summary>
    /// Verifies the metadata_csum checksum of one directory block of inode <paramref name="inode"/>.
    /// <paramref name="indexedDirectory"/> says the directory is hashed (INDEX flag): then logical block 0 and blocks that
    /// are one empty record are htree index blocks with a <c>dx_tail</c>, as the kernel decides.
    /// </summary>
    public static void VerifyChecksum(ReadOnlySpan<byte> block, long deviceOffset, uint inodeSeed, bool indexedDirectory, ulong logicalBlock)
    {
        int bs = block.Length;
        bool isIndexRoot = indexedDirectory && logicalBlock == 0;
        if (isIndexRoot || indexedDirectory && IsIndexNode(block))
        {
            int countOffset;
            if (isIndexRoot)
            {
                CorruptStructure.Check(bs >= 40, "dx_root", deviceOffset, "block too small");
                byte infoLength = block[24 + 5];
                countOffset = 24 + infoLength;
            }
            else countOffset = 8;
            CorruptStructure.Check(countOffset + 4 <= bs, "dx_countlimit", deviceOffset + countOffset, "past the block");
            int limit = BinaryPrimitives.ReadUInt16LittleEndian(block[countOffset..]);
            int count = BinaryPrimitives.ReadUInt16LittleEndian(block[(countOffset + 2)..]);
            int tailAt = countOffset + limit * 8;
            CorruptStructure.Check(count <= limit && tailAt + 8 <= bs, "dx_tail", deviceOffset + countOffset,
                $"dx count {count} / limit {limit} leave no room for the checksum tail");
            uint c = Ext4Crc.Crc32C(inodeSeed, block[..(countOffset + count * 8)]);
            c = Ext4Crc.Crc32C(c, block.Slice(tailAt, 4));
            c = Ext4Crc.Crc32C(c, 0u);
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(block[(tailAt + 4)..]);
            CorruptStructure.Check(stored == c, "dx_tail", deviceOffset + tailAt, $"htree block checksum mismatch (stored 0x{stored:X8}, computed 0x{c:X8})");
            return;
        }
        var t = block[(bs - TailSize)..];
        bool hasTail = BinaryPrimitives.ReadUInt32LittleEndian(t) == 0 && BinaryPrimitives.ReadUInt16LittleEndian(t[4..]) == TailSize
            && t[6] == 0 && t[7] == TailFileType;
        CorruptStructure.Check(hasTail, "ext4_dir_entry_tail", deviceOffset + bs - TailSize, "metadata_csum is on but the directory block has no checksum tail");
        uint have = Ext4Crc.Crc32C(inodeSeed, block[..(bs - TailSize)]);
        uint want = BinaryPrimitives.ReadUInt32LittleEndian(t[8..]);
        CorruptStructure.Check(want == have, "ext4_dir_entry_tail", deviceOffset + bs - TailSize, $"directory block checksum mismatch (stored 0x{want:X8}, computed 0x{have:X8})");
    }

    /// <summary>
    /// Parses the records of <paramref name="region"/> (a whole block, or the inline-data area) and appends the live
    /// names (inode ≠ 0, not "." or "..") to <paramref name="into"/> when it is not null; with null it only validates.
    /// Every <c>rec_len</c> must be at least 8 + name, a multiple of 4 and stay inside the region. Each entry's name is
    /// decoded after <paramref name="namePrefix"/> into one string (a walk passes the directory's path and a slash, and
    /// gets each child's path without building the name first).
    /// </summary>
    public static void Read(ReadOnlySpan<byte> region, long deviceOffset, bool hasFileType, List<Ext4DirectoryEntry>? into,
        string namePrefix = "")
    {
        int pos = 0;
        while (pos < region.Length)
        {
            long at = deviceOffset + pos;
            CorruptStructure.Check(pos + HeaderSize <= region.Length, Name, at, $"record header runs past the end of the directory block ({region.Length - pos} bytes left)");
            uint inode = BinaryPrimitives.ReadUInt32LittleEndian(region[pos..]);
            int recLen = DecodeRecLen(BinaryPrimitives.ReadUInt16LittleEndian(region[(pos + 4)..]), region.Length);
            int nameLen = hasFileType ? region[pos + 6] : BinaryPrimitives.ReadUInt16LittleEndian(region[(pos + 6)..]);
            byte fileType = hasFileType ? region[pos + 7] : (byte)0;
            CorruptStructure.Check(recLen >= HeaderSize && (recLen & 3) == 0, Name, at, $"rec_len {recLen} is invalid (at least 8 and a multiple of 4)");
            CorruptStructure.Check(pos + recLen <= region.Length, Name, at, $"rec_len {recLen} runs past the end of the directory block ({region.Length - pos} bytes left)");
            CorruptStructure.Check(HeaderSize + nameLen <= recLen, Name, at, $"name_len {nameLen} does not fit rec_len {recLen}");
            if (inode != 0 && nameLen > 0)
            {
                var name = region.Slice(pos + HeaderSize, nameLen);
                bool dot = name.Length == 1 && name[0] == (byte)'.' || name.Length == 2 && name[0] == (byte)'.' && name[1] == (byte)'.';
                if (!dot)
                {
                    CorruptStructure.Check(name.IndexOfAny((byte)'/', (byte)0) < 0, Name, at, "name contains '/' or NUL");
                    into?.Add(new Ext4DirectoryEntry(inode, (byte)(fileType & 0x0F), Decode(namePrefix, name), at));
                }
            }
            pos += recLen;
        }
    }

    static string Decode(string prefix, ReadOnlySpan<byte> name)
    {
        if (prefix.Length == 0) return Encoding.UTF8.GetString(name);
        int chars = Encoding.UTF8.GetCharCount(name);
        return string.Create(prefix.Length + chars, new PrefixedName(prefix, name), static (into, s) =>
        {
            s.Prefix.CopyTo(into);
            Encoding.UTF8.GetChars(s.Name, into[s.Prefix.Length..]);
        });
    }

    readonly ref struct PrefixedName(string prefix, ReadOnlySpan<byte> name)
    {
        public string Prefix { get; } = prefix;
        public ReadOnlySpan<byte> Name { get; } = name;
    }
}
