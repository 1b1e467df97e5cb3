using Offhost.Testing;

namespace Offhost.Formats.Ext4.Tests;

/// <summary>The same tree under different on-disk layouts: meta_bg, 32-bit descriptors with gdt_csum (CRC16),
/// bigalloc, 2 KiB blocks and 128-byte inodes; each mapped and checked against a mount.</summary>
[Trait("Category", "Integration")]
public sealed class FeatureMatrixTests : IDisposable
{
    readonly Scratch scratch = new("ext4-features");

    public void Dispose() => scratch.Dispose();

    [Theory]
    [InlineData("meta_bg", "-b", "1024", "-O", "meta_bg,^resize_inode")]
    [InlineData("gdt_csum", "-b", "2048", "-O", "^64bit,^metadata_csum,uninit_bg")]
    [InlineData("bigalloc", "-b", "4096", "-O", "bigalloc", "-C", "65536")]
    [InlineData("bigalloc_1k", "-b", "1024", "-O", "bigalloc", "-C", "4096")]
    [InlineData("small_inodes", "-b", "4096", "-I", "128")]
    [InlineData("csum_seed", "-b", "4096", "-O", "metadata_csum_seed")]
    public void Layout_variants_match_the_mount(string name, params string[] options)
    {
        Requires.Root();
        string src = scratch["src"];
        if (!Directory.Exists(src))
        {
            Directory.CreateDirectory(src);
            Tool.Bash($"""
                cd '{src}'
                mkdir -p a/b c
                for i in $(seq 1 200); do head -c $((i * 37)) /dev/urandom > a/f$i; done
                head -c 3000000 /dev/urandom > c/big
                truncate -s 20M c/sparse && printf z | dd of=c/sparse bs=1 seek=15000000 conv=notrunc status=none
                ln -s ../c/big a/b/link
                setfattr -n user.v -v 1 c/big
                """);
        }
        string image = Ext4VolumeBuilder.Create(scratch[$"{name}.img"], 200L << 20, "ext4", src, options);
        using var img = new Ext4TestImage(image);
        var mapper = img.Open();
        Assert.Equal("ext4", mapper.Volume.FileSystem);
        using var m = Ext4VolumeBuilder.Mount(image, scratch[$"ro-{name}"], readOnly: true);
        var entries = MapVerifier.Verify(mapper, img.Device, new MountTruth(m.Path, withXattrs: true));
        Assert.True(entries.Count > 200);
    }
}
