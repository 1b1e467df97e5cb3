using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Offhost.Core.Devices;
using Offhost.Core.Errors;

namespace Offhost.Formats.Partitions;

/// <summary>
/// Reads MBR (with extended/logical partitions) and GPT partition tables. A GPT disk is recognised by its
/// protective MBR (type EEh); its primary header is used when its CRC holds, else the backup header at the
/// last LBA. Every structure read is bounded: entry counts, entry sizes and the logical-partition chain.
/// </summary>
public static class PartitionTableReader
{
    const int MbrSize = 512;
    const ushort MbrSignature = 0xAA55;
    const int MbrTableOffset = 446;
    const int MbrEntrySize = 16;
    const byte MbrTypeGptProtective = 0xEE;
    const int MaxLogicalPartitions = 128;
    const int MaxGptEntries = 1024;
    const int MaxGptEntrySize = 4096;
    static readonly byte[] GptSignature = "EFI PART"u8.ToArray();

    /// <summary>Reads the partition table of <paramref name="disk"/>; <see cref="PartitionScheme.None"/> when the
    /// first sector carries no MBR signature (a bare volume).</summary>
    public static PartitionTable Read(IBlockSource disk)
    {
        if (disk.LengthBytes < MbrSize) return new PartitionTable(PartitionScheme.None, []);
        Span<byte> mbr = stackalloc byte[MbrSize];
        disk.ReadAt(0, mbr);
        if (BinaryPrimitives.ReadUInt16LittleEndian(mbr[510..]) != MbrSignature) return new PartitionTable(PartitionScheme.None, []);

        var primaries = new List<(int Index, byte Type, long StartLba, long Sectors)>();
        for (int i = 0; i < 4; i++)
        {
            var e = mbr.Slice(MbrTableOffset + i * MbrEntrySize, MbrEntrySize);
            byte status = e[0];
            byte type = e[4];
            uint startLba = BinaryPrimitives.ReadUInt32LittleEndian(e[8..]);
            uint sectors = BinaryPrimitives.ReadUInt32LittleEndian(e[12..]);
            if (type == 0 || sectors == 0) continue;
            // A boot sector (NTFS, FAT) also ends in 55AAh; its "partition entries" are code and BPB bytes whose
            // status byte is rarely 00h/80h. Treat such a sector as no table at all.
            if (status is not (0x00 or 0x80)) return new PartitionTable(PartitionScheme.None, []);
            primaries.Add((i + 1, type, startLba, sectors));
        }
        if (primaries.Count == 0) return new PartitionTable(PartitionScheme.None, []);
        if (primaries.Any(p => p.Type == MbrTypeGptProtective)) return ReadGpt(disk);

        int sectorSize = 512; // MBR addresses are in 512-byte sectors on every disk this product reads
        var result = new List<PartitionEntry>();
        foreach (var p in primaries)
        {
            long start = p.StartLba * sectorSize, length = p.Sectors * sectorSize;
            if (p.Type is 0x05 or 0x0F or 0x85)
            {
                ReadLogical(disk, p.StartLba, result, sectorSize);
                continue;
            }
            CheckWithinDisk(disk, "MBR partition entry " + p.Index, MbrTableOffset + (p.Index - 1) * MbrEntrySize, start, length);
            result.Add(new PartitionEntry(p.Index, start, length, p.Type.ToString("x2")));
        }
        string signature = BinaryPrimitives.ReadUInt32LittleEndian(mbr[440..]).ToString("x8");
        return new PartitionTable(PartitionScheme.Mbr, result) { DiskId = signature };
    }

    static void ReadLogical(IBlockSource disk, long extendedStartLba, List<PartitionEntry> result, int sectorSize)
    {
        Span<byte> ebr = stackalloc byte[MbrSize];
        long ebrLba = extendedStartLba;
        var seen = new HashSet<long>();
        int number = 5;
        while (true)
        {
            long at = ebrLba * sectorSize;
            if (!seen.Add(ebrLba) || seen.Count > MaxLogicalPartitions)
                CorruptStructure.Throw("EBR (extended boot record)", at, "the chain of logical partitions loops or is longer than " + MaxLogicalPartitions);
            CheckWithinDisk(disk, "EBR (extended boot record)", at, at, MbrSize);
            disk.ReadAt(at, ebr);
            if (BinaryPrimitives.ReadUInt16LittleEndian(ebr[510..]) != MbrSignature)
                CorruptStructure.Throw("EBR (extended boot record)", at + 510, "missing 55AAh signature");
            var first = ebr.Slice(MbrTableOffset, MbrEntrySize);
            var next = ebr.Slice(MbrTableOffset + MbrEntrySize, MbrEntrySize);
            uint relStart = BinaryPrimitives.ReadUInt32LittleEndian(first[8..]);
            uint sectors = BinaryPrimitives.ReadUInt32LittleEndian(first[12..]);
            if (first[4] != 0 && sectors != 0)
            {
                long start = (ebrLba + relStart) * sectorSize, length = (long)sectors * sectorSize;
                CheckWithinDisk(disk, "EBR partition entry", at + MbrTableOffset, start, length);
                result.Add(new PartitionEntry(number++, start, length, first[4].ToString("x2")));
            }
            uint nextRel = BinaryPrimitives.ReadUInt32LittleEndian(next[8..]);
            if (next[4] == 0 || nextRel == 0) return;
            ebrLba = extendedStartLba + nextRel;
        }
    }

    static PartitionTable ReadGpt(IBlockSource disk)
    {
        int sectorSize = disk.LogicalBlockSize;
        long lastLba = disk.LengthBytes / sectorSize - 1;
        Exception? primaryError = null;
        foreach (long headerLba in new[] { 1L, lastLba })
        {
            try
            {
                return ReadGptAt(disk, headerLba * sectorSize, sectorSize);
            }
            catch (CorruptStructureException e) when (headerLba == 1)
            {
                primaryError = e;   // fall back to the backup header at the last LBA
            }
            catch (CorruptStructureException e)
            {
                throw new CorruptStructureException("GPT header", 1L * sectorSize,
                    $"primary header unusable ({primaryError?.Message}); backup header unusable ({e.Message})", e);
            }
        }
        throw new InvalidOperationException("unreachable");
    }

    static PartitionTable ReadGptAt(IBlockSource disk, long at, int sectorSize)
    {
        const string structure = "GPT header";
        var header = new byte[sectorSize];
        CheckWithinDisk(disk, structure, at, at, sectorSize);
        disk.ReadAt(at, header);
        if (!header.AsSpan(0, 8).SequenceEqual(GptSignature)) CorruptStructure.Throw(structure, at, "signature is not 'EFI PART'");
        uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(12));
        if (headerSize < 92 || headerSize > sectorSize) CorruptStructure.Throw(structure, at + 12, $"header size {headerSize} is outside 92..{sectorSize}");
        uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(16));
        var crcInput = header.AsSpan(0, (int)headerSize).ToArray();
        crcInput.AsSpan(16, 4).Clear();
        if (Crc32.HashToUInt32(crcInput) != storedCrc) CorruptStructure.Throw(structure, at + 16, "header CRC32 does not match");

        var diskGuid = new Guid(header.AsSpan(56, 16));
        long entriesLba = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(72));
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(80));
        uint entrySize = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(84));
        uint entriesCrc = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(88));
        if (count > MaxGptEntries) CorruptStructure.Throw(structure, at + 80, $"{count} partition entries (at most {MaxGptEntries} supported)");
        if (entrySize < 128 || entrySize > MaxGptEntrySize || entrySize % 8 != 0) CorruptStructure.Throw(structure, at + 84, $"partition entry size {entrySize} is not a multiple of 8 in 128..{MaxGptEntrySize}");

        long tableAt = entriesLba * sectorSize;
        long tableBytes = (long)count * entrySize;
        CheckWithinDisk(disk, "GPT partition entry array", tableAt, tableAt, tableBytes);
        var table = new byte[tableBytes];
        disk.ReadAt(tableAt, table);
        if (Crc32.HashToUInt32(table) != entriesCrc) CorruptStructure.Throw("GPT partition entry array", tableAt, "CRC32 does not match the header");

        var result = new List<PartitionEntry>();
        for (int i = 0; i < count; i++)
        {
            var e = table.AsSpan(i * (int)entrySize, (int)entrySize);
            var type = new Guid(e[..16]);
            if (type == Guid.Empty) continue;
            long first = BinaryPrimitives.ReadInt64LittleEndian(e[32..]);
            long last = BinaryPrimitives.ReadInt64LittleEndian(e[40..]);
            long entryAt = tableAt + (long)i * entrySize;
            if (first < 0 || last < first) CorruptStructure.Throw("GPT partition entry " + (i + 1), entryAt + 32, $"first LBA {first} / last LBA {last} are inconsistent");
            long start = first * sectorSize, length = (last - first + 1) * sectorSize;
            CheckWithinDisk(disk, "GPT partition entry " + (i + 1), entryAt + 32, start, length);
            string name = Encoding.Unicode.GetString(e.Slice(56, 72)).TrimEnd('\0');
            result.Add(new PartitionEntry(i + 1, start, length, type.ToString()) { Name = name, UniqueId = new Guid(e.Slice(16, 16)) });
        }
        return new PartitionTable(PartitionScheme.Gpt, result) { DiskId = diskGuid.ToString() };
    }

    static void CheckWithinDisk(IBlockSource disk, string structure, long structureAt, long start, long length)
    {
        if (start < 0 || length < 0 || start > disk.LengthBytes || length > disk.LengthBytes - start)
            CorruptStructure.Throw(structure, structureAt, $"range [{start}, {start + length}) lies outside the disk ({disk.LengthBytes} bytes)");
    }
}
