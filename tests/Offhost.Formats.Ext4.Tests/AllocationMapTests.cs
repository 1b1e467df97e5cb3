using System.Globalization;
using System.Text.RegularExpressions;
using FsCheck.Xunit;
using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Testing;

namespace Offhost.Formats.Ext4.Tests;

/// <summary>
/// The allocation map against e2fsprogs' own reading of the bitmaps (<c>dumpe2fs</c> free ranges, which fill in BLOCK_UNINIT
/// groups the same way), over layouts that move the fixed metadata around, after files were written and deleted.
/// </summary>
[Trait("Category", "Integration")]
public sealed class AllocationMapTests : IDisposable
{
    readonly Scratch scratch = new("ext4-alloc");

    public void Dispose() => scratch.Dispose();

    string SourceTree()
    {
        string src = scratch["src"];
        if (Directory.Exists(src)) return src;
        Directory.CreateDirectory(src);
        Tool.Bash($"""
            cd '{src}'
            mkdir -p d/e
            for i in $(seq 1 120); do head -c $((i * 997)) /dev/urandom > d/f$i; done
            for i in $(seq 1 6); do head -c $((i * 700000)) /dev/urandom > d/e/big$i; done
            truncate -s 30M sparse && printf z | dd of=sparse bs=1 seek=20000000 conv=notrunc status=none
            """);
        return src;
    }

    /// <summary>Deletes every third small file and one large one, and writes a new file into the holes (debugfs).</summary>
    void Churn(string image)
    {
        string newFile = scratch["new.bin"];
        if (!File.Exists(newFile)) Tool.Bash($"head -c 900000 /dev/urandom > '{newFile}'");
        var cmds = new List<string>();
        for (int i = 3; i <= 120; i += 3) cmds.Add($"rm /d/f{i}");
        cmds.Add("rm /d/e/big3");
        cmds.Add($"write {newFile} /d/new");
        string cmdFile = scratch["cmds.txt"];
        File.WriteAllLines(cmdFile, cmds);
        Tool.RunChecked("debugfs", ["-w", "-f", cmdFile, image], stdin: null);
    }

    [Theory]
    [InlineData("ext4_4k_flex", "ext4", "-b", "4096", "-g", "4096")]
    [InlineData("ext4_1k_noflex", "ext4", "-b", "1024", "-O", "^flex_bg")]
    [InlineData("ext4_meta_bg", "ext4", "-b", "1024", "-O", "meta_bg,^resize_inode")]
    [InlineData("ext4_bigalloc_4k", "ext4", "-b", "4096", "-O", "bigalloc", "-C", "16384", "-g", "4096")]
    [InlineData("ext4_bigalloc_1k", "ext4", "-b", "1024", "-O", "bigalloc", "-C", "4096", "-g", "2048")]
    [InlineData("ext4_gdt_csum", "ext4", "-b", "1024", "-O", "^64bit,^metadata_csum,uninit_bg")]
    [InlineData("ext4_sparse_super2", "ext4", "-b", "1024", "-O", "sparse_super2")]
    [InlineData("ext4_no_sparse", "ext4", "-b", "1024", "-O", "^sparse_super,^resize_inode")]
    [InlineData("ext3_1k", "ext3", "-b", "1024")]
    [InlineData("ext2_4k", "ext2", "-b", "4096", "-g", "4096")]
    public void Allocated_ranges_match_dumpe2fs(string name, string fsType, params string[] options)
    {
        Requires.Root();
        string image = Ext4VolumeBuilder.Create(scratch[$"{name}.img"], 100L << 20, fsType, SourceTree(), options);
        Churn(image);
        var truth = DumpE2fsAllocated(image, out int blockSize);
        var ours = Allocated(image, blockSize);
        Assert.Equal(truth, ours);
        Assert.True(truth.Count > 2, "the layout should leave several allocated runs");
    }

    [Fact]
    public void Allocated_ranges_match_dumpe2fs_after_kernel_writes_and_deletes()
    {
        Requires.Root();
        string image = Ext4VolumeBuilder.Create(scratch["kernel.img"], 200L << 20, "ext4", null, "-b", "4096", "-g", "8192");
        using (var m = Ext4VolumeBuilder.Mount(image, scratch["rw"], readOnly: false))
        {
            Tool.Bash($"""
                cd '{m.Path}'
                mkdir a b
                for i in $(seq 1 60); do head -c $((i * 5000)) /dev/urandom > a/f$i; head -c 300000 /dev/urandom > b/g$i; done
                head -c 40000000 /dev/urandom > big
                rm a/f1* b/g2*
                sync
                """);
        }
        Assert.True(Ext4VolumeBuilder.FsckClean(image));
        var truth = DumpE2fsAllocated(image, out int blockSize);
        Assert.Equal(truth, Allocated(image, blockSize));
    }

    [Fact]
    public void Ranges_are_device_offsets_inside_a_partition()
    {
        Requires.Root();
        string image = Ext4VolumeBuilder.Create(scratch["part.img"], 40L << 20, "ext4", SourceTree(), "-b", "1024");
        var truth = DumpE2fsAllocated(image, out int blockSize);
        string disk = scratch["disk.img"];
        const long partStart = 1L << 20;
        using (var f = new FileStream(disk, FileMode.Create)) { f.SetLength(partStart + (40L << 20)); }
        Tool.RunChecked("dd", [$"if={image}", $"of={disk}", "bs=1M", "seek=1", "conv=notrunc,sparse", "status=none"], stdin: null);
        using var img = new Ext4TestImage(disk, partStart, 40L << 20);
        var map = (IAllocationMap)img.Open();
        var ours = map.AllocatedRanges(TestContext.Current.CancellationToken)
            .Select(r => ((r.StartBytes - partStart) / blockSize, (r.StartBytes - partStart + r.LengthBytes) / blockSize)).ToList();
        Assert.Equal(truth, ours);
        Assert.Equal(partStart, map.AllocatedRanges(TestContext.Current.CancellationToken).First().StartBytes);
    }

    [Theory]
    [InlineData("csum", "ext4", "-b", "1024")]
    [InlineData("plain", "ext2", "-b", "1024")]
    public void A_damaged_bitmap_is_reported(string name, string fsType, params string[] options)
    {
        Requires.Root();
        string image = Ext4VolumeBuilder.Create(scratch[$"bad-{name}.img"], 40L << 20, fsType, SourceTree(), options);
        string groupLine = Tool.RunChecked("dumpe2fs", [image], stdin: null).Split('\n').First(l => l.TrimStart().StartsWith("Block bitmap at ", StringComparison.Ordinal));
        long bitmapBlock = long.Parse(Regex.Match(groupLine, @"Block bitmap at (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        // Clear bits in the middle of group 0's bitmap: the free count (and the checksum) no longer agree.
        Ext4VolumeBuilder.Patch(image, bitmapBlock * 1024 + 40, new byte[16]);
        using var img = new Ext4TestImage(image);
        var map = (IAllocationMap)img.Open();
        var e = Assert.Throws<CorruptStructureException>(() => map.AllocatedRanges(TestContext.Current.CancellationToken).ToList());
        Assert.Contains("block bitmap of group 0", e.Message);
        Assert.Contains((bitmapBlock * 1024).ToString(CultureInfo.InvariantCulture), e.Message);
    }

    [Fact]
    public void A_journal_that_needs_recovery_is_refused()
    {
        Requires.Root();
        string image = Ext4VolumeBuilder.Create(scratch["recover.img"], 40L << 20, "ext4", SourceTree(), "-b", "4096");
        Ext4VolumeBuilder.Debugfs(image, "feature needs_recovery", write: true);
        using var img = new Ext4TestImage(image);
        var map = (IAllocationMap)img.Open();
        var e = Assert.Throws<CorruptStructureException>(() => map.AllocatedRanges(TestContext.Current.CancellationToken).ToList());
        Assert.Contains("needs_recovery", e.Message);
        Assert.Contains("at byte offset 1024", e.Message);
    }

    [Fact]
    public void Arbitrary_bytes_in_bitmaps_and_descriptors_give_ranges_or_a_structure_error()
    {
        Requires.Root();
        string image = Ext4VolumeBuilder.Create(scratch["fuzz.img"], 16L << 20, "ext4", null, "-b", "1024", "-O", "^metadata_csum,^64bit,uninit_bg");
        var pristine = File.ReadAllBytes(image);
        var random = new Random(7);
        for (int round = 0; round < 300; round++)
        {
            var bytes = (byte[])pristine.Clone();
            // Group descriptors at block 2, bitmaps and tables in the first 300 blocks.
            int at = round % 2 == 0 ? 2048 + random.Next(64) : 1024 * random.Next(3, 300);
            int n = random.Next(1, 512);
            for (int i = 0; i < n && at + i < bytes.Length; i++) bytes[at + i] = (byte)random.Next(256);
            var volume = new SliceBlockSource(new MemoryBlockSource(bytes), 0, bytes.Length);
            IVolumeMapper mapper;
            try { mapper = Ext4Volume.OpenMapper(volume, null); }
            catch (CorruptStructureException) { continue; }
            try
            {
                long last = -1;
                foreach (var (start, length) in ((IAllocationMap)mapper).AllocatedRanges(TestContext.Current.CancellationToken))
                {
                    Assert.True(start > last && length > 0 && start + length <= bytes.Length, $"round {round}: range {start}+{length} after {last}");
                    last = start + length;
                }
            }
            catch (CorruptStructureException) { }
        }
    }

    static List<(long Start, long End)> Allocated(string image, int blockSize)
    {
        using var img = new Ext4TestImage(image);
        var map = (IAllocationMap)img.Open();
        return map.AllocatedRanges(TestContext.Current.CancellationToken)
            .Select(r => (r.StartBytes / blockSize, (r.StartBytes + r.LengthBytes) / blockSize)).ToList();
    }

    internal static List<(long Start, long End)> DumpE2fsAllocated(string image, out int blockSize) =>
        Ext4VolumeBuilder.AllocatedBlocks(image, out blockSize);
}

/// <summary>The bitmap scanner against a bit-by-bit reading of arbitrary bytes.</summary>
public sealed class BitmapPropertyTests
{
    [Property(MaxTest = 3000)]
    public void Set_bit_runs_are_exactly_the_set_bits(byte[] bitmap, int count)
    {
        int bits = bitmap.Length == 0 ? 0 : (int)((uint)count % (uint)(bitmap.Length * 8 + 1));
        var runs = new List<(int Start, int Length)>();
        Ext4AllocationMap.SetBitRuns(bitmap, bits, runs);
        var expected = new List<(int, int)>();
        int start = -1;
        for (int i = 0; i <= bits; i++)
        {
            bool set = i < bits && (bitmap[i / 8] & (1 << (i % 8))) != 0;
            if (set && start < 0) start = i;
            else if (!set && start >= 0) { expected.Add((start, i - start)); start = -1; }
        }
        Assert.Equal(expected, runs);
        Assert.Equal(bits - runs.Sum(r => r.Length), Ext4AllocationMap.CountClearBits(bitmap, bits));
    }

    [Property(MaxTest = 500)]
    public void Long_uniform_stretches_are_one_run(bool set, byte lengthWords, byte tail)
    {
        var bitmap = new byte[(lengthWords + 2) * 8];
        int bits = lengthWords * 64 + tail % 64;
        for (int i = 0; i < bits; i++) if (set) bitmap[i / 8] |= (byte)(1 << (i % 8));
        var runs = new List<(int Start, int Length)>();
        Ext4AllocationMap.SetBitRuns(bitmap, bitmap.Length * 8, runs);
        Assert.Equal(set && bits > 0 ? [(0, bits)] : new List<(int, int)>(), runs);
    }
}
