using Offhost.Testing;

namespace Offhost.Formats.Ext4.Tests;

/// <summary>
/// An ext4 image (default mke2fs features: extents, 64bit, flex_bg, metadata_csum, 4 KiB blocks) populated twice:
/// first by <c>mkfs.ext4 -d</c> from a prepared tree, then through a read-write loop mount (fragmented appends with
/// fsync, fallocate'd ranges, setfattr, ns times). Built once per test class.
/// </summary>
public sealed class RichVolumeFixture : IDisposable
{
    public Scratch Scratch { get; } = new("ext4-rich");
    public string Image { get; }
    public string? SkipReason { get; }

    public RichVolumeFixture()
    {
        Image = Scratch["rich.img"];
        if (Environment.UserName != "root") { SkipReason = "needs root for loop mounts"; return; }
        string src = Scratch["src"];
        Directory.CreateDirectory(src);
        Ext4FeatureTree.BuildSourceTree(src);
        Ext4VolumeBuilder.Create(Image, 256L << 20, "ext4", src, "-L", "richvol", "-b", "4096", "-I", "256");
        using (var m = Ext4VolumeBuilder.Mount(Image, Scratch["rw"], readOnly: false))
            Ext4FeatureTree.WriteThroughMount(m.Path);
        if (!Ext4VolumeBuilder.FsckClean(Image)) throw new InvalidOperationException("e2fsck reports the fixture image is not clean");
    }

    public void Dispose() => Scratch.Dispose();
}
