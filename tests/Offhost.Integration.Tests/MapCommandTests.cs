using System.Text.Json;
using Offhost.Core.Mapping;
using Offhost.Testing;

namespace Offhost.Integration.Tests;

/// <summary><c>offhost map</c> on bare volumes and on MBR and GPT disks holding NTFS and ext4 volumes.</summary>
[Trait("Category", "Integration")]
public class MapCommandTests : IClassFixture<MapCommandTests.Volumes>
{
    public sealed class Volumes : IDisposable
    {
        public Scratch Scratch { get; } = new("map-cli");
        public string Ntfs => Scratch["ntfs.img"];
        public string Ext4 => Scratch["ext4.img"];

        public Volumes()
        {
            Tool.Run("bash", Path.Combine(Cli.RepoRoot, "scripts/make-sample-ntfs.sh"), Ntfs);
            Directory.CreateDirectory(Scratch["tree/sub"]);
            File.WriteAllBytes(Scratch["tree/sub/data.bin"], TestData.Random(3, 300_000));
            File.WriteAllText(Scratch["tree/hello.txt"], "hello ext4\n");
            Tool.Run("mkfs.ext4", "-q", "-F", "-L", "EXT", "-d", Scratch["tree"], Ext4, "32M");
        }

        public void Dispose() => Scratch.Dispose();
    }

    readonly Volumes v;
    public MapCommandTests(Volumes v) => this.v = v;

    static List<JsonElement> Lines(string jsonl) =>
        jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    /// <summary>Builds a disk image with a partition table and copies the volumes into its partitions.</summary>
    string Disk(string label, long[] startSectors)
    {
        string disk = v.Scratch[$"disk-{label}.img"];
        Tool.Run("truncate", "-s", "128M", disk);
        long ntfsSectors = new FileInfo(v.Ntfs).Length / 512, extSectors = new FileInfo(v.Ext4).Length / 512;
        string script = $"label: {label}\nstart={startSectors[0]}, size={ntfsSectors}, type={(label == "gpt" ? "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7" : "7")}\n"
            + $"start={startSectors[1]}, size={extSectors}, type={(label == "gpt" ? "0FC63DAF-8483-4772-8E79-3D69D8477DE4" : "83")}\n";
        Tool.RunChecked("sfdisk", ["-q", disk], script);
        Tool.Run("dd", $"if={v.Ntfs}", $"of={disk}", "bs=512", $"seek={startSectors[0]}", "conv=notrunc", "status=none");
        Tool.Run("dd", $"if={v.Ext4}", $"of={disk}", "bs=512", $"seek={startSectors[1]}", "conv=notrunc", "status=none");
        return disk;
    }

    [Theory]
    [InlineData("dos")]
    [InlineData("gpt")]
    public void Every_volume_of_a_partitioned_disk_maps_as_it_does_bare_with_extents_shifted(string label)
    {
        Requires.Tool("sfdisk");
        long[] starts = [2048, 2048 + 131072 + 2048];
        string disk = Disk(label, starts);

        var whole = Lines(Cli.RunOk("map", disk, "--json"));
        var volumes = whole.Where(l => l.GetProperty("type").GetString() == "volume").ToList();
        Assert.Equal(["ntfs", "ext4"], volumes.Select(x => x.GetProperty("filesystem").GetString()));
        Assert.Equal([starts[0] * 512, starts[1] * 512], volumes.Select(x => x.GetProperty("partition_offset").GetInt64()));
        Assert.Equal([1, 2], volumes.Select(x => x.GetProperty("partition").GetInt32()));

        for (int p = 0; p < 2; p++)
        {
            string bare = p == 0 ? v.Ntfs : v.Ext4;
            var expected = Lines(Cli.RunOk("map", bare, "--json")).Skip(1).Select(l => StorageMapJson.ReadEntry(System.Text.Encoding.UTF8.GetBytes(l.GetRawText()))).ToList();
            var got = Lines(Cli.RunOk("map", disk, "--json", "--partition", (p + 1).ToString())).Skip(1)
                .Select(l => StorageMapJson.ReadEntry(System.Text.Encoding.UTF8.GetBytes(l.GetRawText()))).ToList();
            Assert.Equal(expected.Count, got.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Path, got[i].Path);
                var e = expected[i].Streams.SelectMany(s => s.Extents).ToList();
                var g = got[i].Streams.SelectMany(s => s.Extents).ToList();
                Assert.Equal(e.Count, g.Count);
                for (int x = 0; x < e.Count; x++)
                {
                    Assert.Equal(e[x].OffsetBytes, g[x].OffsetBytes);
                    Assert.Equal(e[x].Kind, g[x].Kind);
                    if (e[x].Kind == ExtentKind.Data) Assert.Equal(e[x].Lba + starts[p], g[x].Lba);
                }
            }
        }
    }

    [Fact]
    public void A_loop_block_device_maps_as_its_image_does()
    {
        Requires.Root();
        Requires.Tool("losetup");
        string loop = Tool.Run("losetup", "--find", "--show", "--read-only", v.Ntfs).Trim();
        try
        {
            static string[] Entries(string jsonl) => jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray();
            var fromDevice = Cli.RunOk("map", loop, "--json");
            Assert.Equal(Entries(Cli.RunOk("map", v.Ntfs, "--json")), Entries(fromDevice));
            // The size comes from BLKGETSIZE64: .NET reports 0 for block devices.
            Assert.Contains($"\"size\":{new FileInfo(v.Ntfs).Length - 512}", fromDevice.Split('\n')[0]);
        }
        finally { Tool.TryRun("losetup", ["-d", loop]); }
    }

    [Fact]
    public void Summary_counts_files_and_the_exit_code_says_the_map_is_complete()
    {
        var r = Cli.Run("map", v.Ntfs);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("files 5, directories 5, symlinks 1, unmappable 0", r.Stdout);
        Assert.Contains("compressed 1", r.Stdout);
        Assert.Contains("records/s", r.Stdout);
    }

    [Fact]
    public void A_missing_partition_and_an_unrecognised_source_are_clear_errors()
    {
        var r = Cli.Run("map", v.Ext4, "--partition", "2");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("bare ext2/ext3/ext4 volume", r.Stderr);

        string zeros = v.Scratch["zeros.img"];
        Tool.Run("truncate", "-s", "4M", zeros);
        r = Cli.Run("map", zeros);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("no NTFS or ext2/ext3/ext4 file system and no MBR or GPT partition table", r.Stderr);

        r = Cli.Run("map", v.Scratch["does-not-exist.img"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("cannot open", r.Stderr);
    }
}
