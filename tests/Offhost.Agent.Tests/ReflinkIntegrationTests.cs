using System.Diagnostics;
using Offhost.Agent.FrozenImages;
using Offhost.Testing;

namespace Offhost.Agent.Tests;

[Trait("Category", "Integration")]
public class ReflinkIntegrationTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// An XFS scratch file system holds an ext4 image mounted through a loop device while writers append sequence numbers.
    /// The reflink snapshot, taken with the ext4 frozen around the clone, must equal a copy of the files made while frozen,
    /// and every file in it must be a gap-free prefix 1..n.
    /// </summary>
    [Fact]
    public async Task Reflink_clone_of_a_live_loop_mounted_image_is_consistent()
    {
        Requires.Root();
        Requires.Tool("mkfs.xfs");
        Requires.Tool("mkfs.ext4");
        Requires.Tool("fsfreeze");
        Requires.Tool("findmnt");
        using var s = new Scratch("reflink");
        string xfsImg = s["xfs.img"];
        Tool.Run("truncate", "-s", "320M", xfsImg);
        Tool.Run("mkfs.xfs", "-q", "-m", "reflink=1", xfsImg);
        using var xfs = new LoopMount(xfsImg, s["xfs"]);
        using var ext4 = LoopMount.Ext4Inside(xfs.MountPoint, "vol", s["vol"]);

        var writers = Enumerable.Range(0, 3).Select(w => LoopMount.Start(
            $"i=0; while :; do i=$((i+1)); echo $i >> '{ext4.MountPoint}/seq{w}'; done")).ToList();
        string frozenCopy = s["frozen-copy"];
        FrozenImage? image = null;
        try
        {
            await Task.Delay(1000, Ct);
            var options = new FrozenImageOptions
            {
                Quiesce = QuiesceOptions.Disabled,
                WhileFrozen = (_, _) =>
                {
                    Directory.CreateDirectory(frozenCopy);
                    for (int w = 0; w < 3; w++) File.Copy(Path.Combine(ext4.MountPoint, $"seq{w}"), Path.Combine(frozenCopy, $"seq{w}"));
                    return Task.CompletedTask;
                },
            };
            image = await new FrozenImageService().CreateAsync(ext4.MountPoint, options, Ct);
            Assert.Equal(SnapshotProvider.Reflink, image.Provider);
            Assert.StartsWith(xfs.MountPoint, image.SnapshotPath, StringComparison.Ordinal);
            Assert.Empty(image.FrozenMountPoints);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(image.SnapshotPath));
            // Writers go on after the snapshot: the file system was thawed right after the clone.
            long before = new FileInfo(Path.Combine(ext4.MountPoint, "seq0")).Length;
            await Task.Delay(500, Ct);
            Assert.True(new FileInfo(Path.Combine(ext4.MountPoint, "seq0")).Length > before, "writers did not resume after the clone");
        }
        finally
        {
            foreach (var w in writers) { w.Kill(entireProcessTree: true); w.WaitForExit(); w.Dispose(); }
        }

        try
        {
            using var clone = new LoopMount(image.SnapshotPath, s["clone"], "loop,ro,noload");
            for (int w = 0; w < 3; w++)
            {
                byte[] inClone = await File.ReadAllBytesAsync(Path.Combine(clone.MountPoint, $"seq{w}"), Ct);
                byte[] atFreeze = await File.ReadAllBytesAsync(Path.Combine(frozenCopy, $"seq{w}"), Ct);
                Assert.True(inClone.Length > 0, $"seq{w} empty in the clone");
                Assert.True(inClone.AsSpan().SequenceEqual(atFreeze), $"seq{w}: clone ({inClone.Length} bytes) differs from the copy taken while frozen ({atFreeze.Length} bytes)");
                var lines = System.Text.Encoding.ASCII.GetString(inClone).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                for (int i = 0; i < lines.Length; i++) Assert.Equal((i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), lines[i]);
            }
        }
        finally
        {
            string snapshot = image.SnapshotPath;
            await image.DisposeAsync();
            Assert.False(File.Exists(snapshot), "release must delete the clone");
        }
    }
}
