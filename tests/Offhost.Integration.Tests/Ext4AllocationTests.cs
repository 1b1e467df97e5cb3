using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Offhost.Testing;

namespace Offhost.Integration.Tests;

/// <summary>
/// An ext4 volume that is mostly free space backs up as its allocated blocks only (from the block bitmaps), and
/// restores into a clean file system with the same files and the same bytes in every allocated block.
/// </summary>
[Trait("Category", "Integration")]
public class Ext4AllocationTests
{
    [Fact]
    public void Ext4_backup_keeps_only_allocated_blocks_and_restores_a_clean_volume()
    {
        Requires.Root();
        using var s = new Scratch("ext4-alloc-backup");
        const long volumeBytes = 384L << 20;
        string image = Ext4VolumeBuilder.Create(s["v.img"], volumeBytes, "ext4", null, "-b", "4096", "-L", "sparse");
        using (var m = Ext4VolumeBuilder.Mount(image, s["rw"], readOnly: false))
        {
            // Deleted files leave their old bytes in free blocks: the backup must not carry them, the restore must not need them.
            Tool.Bash($"""
                cd '{m.Path}'
                mkdir -p keep/deep/er gone
                for i in $(seq 1 200); do head -c $((i * 311)) /dev/urandom > keep/f$i; done
                head -c 12000000 /dev/urandom > keep/deep/er/big
                for i in $(seq 1 20); do head -c 3000000 /dev/urandom > gone/g$i; done
                ln keep/f7 keep/deep/hard
                ln -s ../f9 keep/deep/link
                sync
                rm -r gone
                sync
                """);
        }
        Assert.True(Ext4VolumeBuilder.FsckClean(image), "source volume not clean");
        long allocatedBytes = AllocatedBlocks(image, out int blockSize).Sum(r => r.End - r.Start) * blockSize;

        string tape = s["t.tap"];
        Cli.RunOk("tape", "new", tape, "--capacity", "1G", "--label", "T00001");
        var json = JsonDocument.Parse(Cli.RunOk("backup-image", image, "--tape", tape, "--json")).RootElement;
        long file = json.GetProperty("archive_file").GetInt64();
        long archiveBytes = json.GetProperty("archive_bytes").GetInt64();
        long freeBytes = volumeBytes - allocatedBytes;
        Assert.True(freeBytes > volumeBytes / 2, $"the volume should be mostly free ({freeBytes} of {volumeBytes} bytes)");
        // The archive holds the allocated blocks (files and metadata) plus headers; free space contributes nothing.
        Assert.True(archiveBytes < allocatedBytes + (8L << 20), $"archive {archiveBytes} bytes for {allocatedBytes} allocated bytes of a {volumeBytes}-byte volume");
        Assert.True(archiveBytes >= 12_000_000, $"archive {archiveBytes} bytes cannot hold the files");

        string restored = s["restored.img"];
        Cli.RunOk("restore-image", "--tape", tape, "--file", file.ToString(CultureInfo.InvariantCulture), "--to", restored, "--create", "384M");
        var e2fsck = Tool.TryRun("e2fsck", ["-fn", restored]);
        Assert.True(e2fsck.ExitCode == 0, $"e2fsck -fn on the restored volume: {e2fsck.Stdout}{e2fsck.Stderr}");

        // Every allocated block (as e2fsprogs reads the bitmaps) is identical.
        using (var a = new FileStream(image, FileMode.Open, FileAccess.Read))
        using (var b = new FileStream(restored, FileMode.Open, FileAccess.Read))
        {
            var x = new byte[1 << 20];
            var y = new byte[1 << 20];
            foreach (var (start, end) in AllocatedBlocks(image, out _))
                for (long at = start * blockSize; at < end * blockSize; at += x.Length)
                {
                    int n = (int)Math.Min(x.Length, end * blockSize - at);
                    a.Position = at; a.ReadExactly(x, 0, n);
                    b.Position = at; b.ReadExactly(y, 0, n);
                    Assert.True(x.AsSpan(0, n).SequenceEqual(y.AsSpan(0, n)), $"allocated bytes at {at} differ");
                }
        }

        using var src = Ext4VolumeBuilder.Mount(image, s["ro-src"], readOnly: true);
        using var dst = Ext4VolumeBuilder.Mount(restored, s["ro-dst"], readOnly: true);
        int compared = TreeCompare.AssertSame(src.Path, dst.Path, new TreeCompare.Options { CompareModes = true, CompareOwners = true });
        Assert.True(compared > 200, $"only {compared} files compared");
    }

    static List<(long Start, long End)> AllocatedBlocks(string image, out int blockSize) => Ext4VolumeBuilder.AllocatedBlocks(image, out blockSize);
}
