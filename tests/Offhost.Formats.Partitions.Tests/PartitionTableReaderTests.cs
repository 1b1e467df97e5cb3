using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Io.Block;
using Offhost.Testing;

namespace Offhost.Formats.Partitions.Tests;

/// <summary>Partition tables made by sfdisk and sgdisk, read back and compared with what sfdisk --json reports.</summary>
public class PartitionTableReaderTests
{
    static List<(long Start, long Size)> SfdiskPartitions(string image)
    {
        using var doc = JsonDocument.Parse(Tool.Run("sfdisk", "--json", image));
        return doc.RootElement.GetProperty("partitiontable").GetProperty("partitions").EnumerateArray()
            .Select(p => (p.GetProperty("start").GetInt64() * 512, p.GetProperty("size").GetInt64() * 512)).ToList();
    }

    [Fact]
    public void Mbr_with_primary_and_logical_partitions_matches_sfdisk()
    {
        Requires.Tool("sfdisk");
        using var s = new Scratch("mbr");
        string img = s["disk.img"];
        Tool.Run("truncate", "-s", "64M", img);
        Tool.RunChecked("sfdisk", ["-q", img], "label: dos\n,8M,7\n,8M,83\n,4M,83\n,,5\n,10M,83\n,10M,7\n");
        using var disk = new FileBlockSource(img);
        var table = PartitionTableReader.Read(disk);
        Assert.Equal(PartitionScheme.Mbr, table.Scheme);
        var expected = SfdiskPartitions(img).Where(p => p.Size > 2 * 512).ToList(); // sfdisk also lists the extended container
        var got = table.Partitions.Select(p => (p.StartBytes, p.LengthBytes)).ToList();
        Assert.Equal(expected.Where(e => got.Contains(e)).Count(), got.Count);
        Assert.Equal([1, 2, 3, 5, 6], table.Partitions.Select(p => p.Number));
        Assert.Equal("07", table.Partitions[0].Type);
    }

    [Fact]
    public void Gpt_partitions_match_sfdisk_and_survive_a_damaged_primary_header()
    {
        Requires.Tool("sgdisk");
        using var s = new Scratch("gpt");
        string img = s["disk.img"];
        Tool.Run("truncate", "-s", "64M", img);
        Tool.Run("sgdisk", "-n", "1:2048:+10M", "-c", "1:data one", "-t", "1:0700", "-n", "2:0:+20M", "-t", "2:8300", img);
        var expected = SfdiskPartitions(img);
        using (var disk = new FileBlockSource(img))
        {
            var table = PartitionTableReader.Read(disk);
            Assert.Equal(PartitionScheme.Gpt, table.Scheme);
            Assert.Equal(expected, table.Partitions.Select(p => (p.StartBytes, p.LengthBytes)));
            Assert.Equal("data one", table.Partitions[0].Name);
            Assert.Equal("ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", table.Partitions[0].Type);
        }
        using (var f = File.Open(img, FileMode.Open)) Flip(f, 512 + 16); // break the primary header CRC
        using (var disk = new FileBlockSource(img))
            Assert.Equal(expected, PartitionTableReader.Read(disk).Partitions.Select(p => (p.StartBytes, p.LengthBytes)));
    }

    [Fact]
    public void Gpt_with_both_headers_damaged_names_the_header_and_its_offset()
    {
        Requires.Tool("sgdisk");
        using var s = new Scratch("gpt-bad");
        string img = s["disk.img"];
        Tool.Run("truncate", "-s", "16M", img);
        Tool.Run("sgdisk", "-n", "1:2048:+4M", img);
        long last = new FileInfo(img).Length - 512;
        using (var f = File.Open(img, FileMode.Open))
        {
            Flip(f, 512 + 16);   // header CRC32 of the primary...
            Flip(f, last + 16);  // ...and of the backup
        }
        using var disk = new FileBlockSource(img);
        var e = Assert.Throws<CorruptStructureException>(() => PartitionTableReader.Read(disk));
        Assert.Contains("GPT header", e.Message);
        Assert.Contains("byte offset 512", e.Message);
    }

    static void Flip(FileStream f, long at)
    {
        f.Position = at;
        int b = f.ReadByte();
        f.Position = at;
        f.WriteByte((byte)(b ^ 0xFF));
    }

    [Fact]
    public void A_looping_chain_of_logical_partitions_is_refused()
    {
        var disk = new byte[1 << 20];
        void Sig(int at) { disk[at + 510] = 0x55; disk[at + 511] = 0xAA; }
        Sig(0);
        disk[446 + 4] = 0x05; BitConverter.TryWriteBytes(disk.AsSpan(446 + 8), 100u); BitConverter.TryWriteBytes(disk.AsSpan(446 + 12), 1000u);
        int ebr = 100 * 512;
        Sig(ebr);
        disk[ebr + 446 + 16 + 4] = 0x05; BitConverter.TryWriteBytes(disk.AsSpan(ebr + 446 + 16 + 8), 0u); // next EBR = itself...
        BitConverter.TryWriteBytes(disk.AsSpan(ebr + 446 + 16 + 8), 1u);
        int ebr2 = 101 * 512;
        Sig(ebr2);
        disk[ebr2 + 446 + 16 + 4] = 0x05; BitConverter.TryWriteBytes(disk.AsSpan(ebr2 + 446 + 16 + 8), 1u); // ...points back to 101
        var e = Assert.Throws<CorruptStructureException>(() => PartitionTableReader.Read(new MemoryBlockSource(disk)));
        Assert.Contains("EBR", e.Message);
    }

    [FsCheck.Xunit.Property(MaxTest = 2000)]
    public bool Arbitrary_first_sectors_give_a_table_or_a_named_error(byte[] sector0, byte[] sector1, bool withSignature)
    {
        var disk = new byte[64 * 1024];
        sector0.AsSpan(0, Math.Min(512, sector0.Length)).CopyTo(disk);
        sector1.AsSpan(0, Math.Min(512, sector1.Length)).CopyTo(disk.AsSpan(512));
        if (withSignature) { disk[510] = 0x55; disk[511] = 0xAA; disk[450] = 0xEE; disk[446] = 0; }
        try
        {
            PartitionTableReader.Read(new MemoryBlockSource(disk));
            return true;
        }
        catch (CorruptStructureException) { return true; }
    }
}
