using Offhost.Core.Mapping;
using Offhost.Testing;

namespace Offhost.Formats.Ext4.Tests;

/// <summary>ext2 and ext3 (block maps with single, double and triple indirect blocks, 1 KiB blocks) and ext4 with inline data.</summary>
[Trait("Category", "Integration")]
public sealed class ClassicVolumeTests : IDisposable
{
    readonly Scratch scratch = new("ext4-classic");

    public void Dispose() => scratch.Dispose();

    string Source()
    {
        string src = scratch["src"];
        if (Directory.Exists(src)) return src;
        Directory.CreateDirectory(src);
        Tool.Bash($"""
            cd '{src}'
            mkdir -p dir/sub empty
            truncate -s 80M triple
            printf 'start' | dd of=triple conv=notrunc status=none
            head -c 3000 /dev/urandom | dd of=triple bs=1 seek=1048576 conv=notrunc status=none
            head -c 5000 /dev/urandom | dd of=triple bs=1 seek=73400320 conv=notrunc status=none
            head -c 409600 /dev/urandom > double
            head -c 13000 /dev/urandom > dir/single
            echo hi > dir/sub/hello
            ln dir/sub/hello dir/hello-link
            ln -s hello dir/sub/fast
            ln -s "$(printf 'segment/%.0s' $(seq 1 20))tail" dir/slow
            setfattr -n user.note -v classic dir/single
            """);
        return src;
    }

    void VerifyAgainstMount(string image, string fsName)
    {
        using var img = new Ext4TestImage(image);
        var mapper = img.Open();
        Assert.Equal(fsName, mapper.Volume.FileSystem);
        Assert.Equal(1024, mapper.Volume.ClusterSizeBytes);
        using var m = Ext4VolumeBuilder.Mount(image, scratch[$"ro-{Guid.NewGuid():N}"], readOnly: true);
        var entries = MapVerifier.Verify(mapper, img.Device, new MountTruth(m.Path, withXattrs: true));
        foreach (var path in new[] { "/triple", "/double", "/dir/single", "/added-through-mount" })
        {
            var e = entries.SingleOrDefault(x => x.Path == path);
            if (e is null) continue;
            Assert.DoesNotContain("extents", e.Attributes);
            var expected = DebugfsExtents.Expected(DebugfsExtents.BlockMap(image, path), e.SizeBytes, 1024, 512, 0);
            Assert.Equal(expected, e.Streams[0].Extents);
        }
        var triple = Assert.Single(entries, x => x.Path == "/triple").Streams[0];
        Assert.Contains(triple.Extents, x => x.Kind == ExtentKind.Data && x.OffsetBytes >= 70L << 20);
    }

    [Fact]
    public void Ext2_block_maps_with_triple_indirect_blocks_match_mount_and_debugfs()
    {
        Requires.Root();
        Requires.Tool("mkfs.ext2");
        string image = Ext4VolumeBuilder.Create(scratch["ext2.img"], 200L << 20, "ext2", Source(), "-b", "1024");
        VerifyAgainstMount(image, "ext2");
    }

    [Fact]
    public void Ext3_with_files_written_through_a_mount_matches_mount_and_debugfs()
    {
        Requires.Root();
        Requires.Tool("mkfs.ext3");
        string image = Ext4VolumeBuilder.Create(scratch["ext3.img"], 200L << 20, "ext3", Source(), "-b", "1024");
        using (var m = Ext4VolumeBuilder.Mount(image, scratch["rw3"], readOnly: false))
            Tool.Bash($"""
                cd '{m.Path}'
                head -c 300000 /dev/urandom > added-through-mount
                truncate -s 70M added-through-mount
                head -c 100 /dev/urandom >> added-through-mount
                sync
                """);
        VerifyAgainstMount(image, "ext3");
    }

    [Fact]
    public void Inline_data_files_dirs_and_symlinks_are_resident()
    {
        Requires.Root();
        string src = scratch["inline-src"];
        Directory.CreateDirectory(src);
        Tool.Bash($"""
            cd '{src}'
            mkdir -p small/dir
            for n in 0 1 5 30 59 60 61 100 150; do head -c $n /dev/urandom > small/f$n; done
            echo tiny > small/dir/x
            ln -s "$(printf 'i%.0s' $(seq 1 80))" small/inline-link
            ln -s short small/short-link
            setfattr -n user.k -v v small/f30
            """);
        string image = Ext4VolumeBuilder.Create(scratch["inline.img"], 64L << 20, "ext4", src, "-O", "inline_data", "-b", "4096", "-I", "256");
        using var img = new Ext4TestImage(image);
        var mapper = img.Open();
        using var m = Ext4VolumeBuilder.Mount(image, scratch[$"ro-{Guid.NewGuid():N}"], readOnly: true);
        var entries = MapVerifier.Verify(mapper, img.Device, new MountTruth(m.Path, withXattrs: true));
        var f100 = Assert.Single(entries, x => x.Path == "/small/f100");
        Assert.Contains("inline_data", f100.Attributes);
        Assert.True(f100.Streams[0].IsResident);
        Assert.Equal(100, f100.Streams[0].ResidentData!.Value.Length);
        Assert.Contains(entries, x => x.Path == "/small/dir" && x.Attributes.Contains("inline_data"));
        Assert.DoesNotContain(entries, x => x.Xattrs.ContainsKey("system.data"));
    }
}
