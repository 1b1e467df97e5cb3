using Offhost.Core.Mapping;
using Offhost.Testing;

namespace Offhost.Formats.Ext4.Tests;

[Trait("Category", "Integration")]
public sealed class RichVolumeTests(RichVolumeFixture fx) : IClassFixture<RichVolumeFixture>
{
    void Need()
    {
        if (fx.SkipReason is not null) Assert.Skip(fx.SkipReason);
        Requires.Tool("debugfs");
    }

    [Fact]
    public void Every_file_matches_the_read_only_mount_bytes_metadata_and_xattrs()
    {
        Need();
        using var img = new Ext4TestImage(fx.Image);
        var mapper = img.Open();
        using var m = Ext4VolumeBuilder.Mount(fx.Image, fx.Scratch[$"ro-{Guid.NewGuid():N}"], readOnly: true);
        var truth = new MountTruth(m.Path, withXattrs: true);
        var entries = MapVerifier.Verify(mapper, img.Device, truth);
        Assert.True(entries.Count > 3000);
        Assert.Contains(entries, e => e.Path == "/data/random-1m" && e.Xattrs.ContainsKey("user.big"));
        Assert.Contains(entries, e => e.Path == "/tiny/t4" && e.Modified!.Value.UnixSeconds > 1L << 32);
    }

    [Fact]
    public void Volume_record_describes_the_ext4_volume()
    {
        Need();
        using var img = new Ext4TestImage(fx.Image);
        var v = img.Open(partition: 3).Volume;
        Assert.Equal("ext4", v.FileSystem);
        Assert.Equal(512, v.BlockSizeBytes);
        Assert.Equal(4096, v.ClusterSizeBytes);
        Assert.Equal(0, v.PartitionOffsetBytes);
        Assert.Equal(256L << 20, v.SizeBytes);
        Assert.Equal("richvol", v.Label);
        Assert.Equal(3, v.Partition);
        string uuid = Tool.Run("blkid", "-s", "UUID", "-o", "value", fx.Image).Trim();
        Assert.Equal(uuid, v.Uuid);
        Assert.Equal(uuid, v.Serial);
        Assert.Empty(v.Warnings);
    }

    [Fact]
    public void Large_directory_is_hashed_and_fully_listed()
    {
        Need();
        using var img = new Ext4TestImage(fx.Image);
        var entries = img.Map();
        var hashed = Assert.Single(entries, e => e.Path == "/hashed");
        Assert.Contains("index", hashed.Attributes);
        Assert.Equal(3000, entries.Count(e => e.Path.StartsWith("/hashed/", StringComparison.Ordinal)));
        Assert.Equal(3000, entries.Count(e => e.Path.StartsWith("/big/", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("/frag/a", 1)]
    [InlineData("/frag/b", 1)]
    [InlineData("/prealloc/f", 0)]
    [InlineData("/prealloc/keep", 0)]
    [InlineData("/sparse/s1", 0)]
    [InlineData("/sparse/allhole", 0)]
    [InlineData("/data/random-1m", 0)]
    [InlineData("/data/large", 0)]
    public void Extents_agree_with_debugfs(string path, int minDepth)
    {
        Need();
        using var img = new Ext4TestImage(fx.Image);
        var e = Assert.Single(img.Map(), x => x.Path == path || x.Links.Contains(path));
        var (leaves, depth) = DebugfsExtents.Extents(fx.Image, path);
        Assert.True(depth >= minDepth, $"{path}: extent tree depth {depth} < {minDepth}");
        var expected = DebugfsExtents.Expected(leaves, e.SizeBytes, 4096, 512, 0);
        Assert.Equal(expected, Assert.Single(e.Streams).Extents);
    }

    [Fact]
    public void Fragmented_file_has_many_extents_and_a_deep_tree()
    {
        Need();
        using var img = new Ext4TestImage(fx.Image);
        var a = Assert.Single(img.Map(), x => x.Path == "/frag/a");
        Assert.True(a.Streams[0].Extents.Count > 500, $"only {a.Streams[0].Extents.Count} extents");
        Assert.Contains("/frag/a-link", a.Links);
        Assert.Contains("extents", a.Attributes);
    }

    [Fact]
    public void Unwritten_and_sparse_ranges_read_as_zero_extents()
    {
        Need();
        using var img = new Ext4TestImage(fx.Image);
        var entries = img.Map();
        var f = Assert.Single(entries, x => x.Path == "/prealloc/f").Streams[0];
        Assert.Equal(2L << 20, f.SizeBytes);
        Assert.Contains(f.Extents, x => x.Kind == ExtentKind.Zero);
        Assert.Contains(f.Extents, x => x.Kind == ExtentKind.Data && x.OffsetBytes == 128 * 4096 && x.LengthBytes == 8192);
        var hole = Assert.Single(entries, x => x.Path == "/sparse/allhole").Streams[0];
        Assert.Equal(MapExtent.Zero(0, 5L << 20), Assert.Single(hole.Extents));
        Assert.True(hole.Sparse);
    }

    [Fact]
    public void Hard_links_symlinks_and_special_files()
    {
        Need();
        using var img = new Ext4TestImage(fx.Image);
        var entries = img.Map();
        var orig = Assert.Single(entries, x => x.Path == "/links/orig" || x.Links.Contains("/links/orig"));
        Assert.Equal(3, orig.Links.Count + 1);
        Assert.Equal("target-short", Assert.Single(entries, x => x.Path == "/sym/fast").Target);
        Assert.Equal(300, Assert.Single(entries, x => x.Path == "/sym/slow-mounted").Target!.Length);
        var fifo = Assert.Single(entries, x => x.Path == "/special/fifo");
        Assert.Equal(MapEntryKind.Special, fifo.Kind);
        Assert.Equal(SpecialFileKind.Fifo, fifo.Special);
        Assert.Null(fifo.Device);
        Assert.Equal(0x1000u, fifo.Mode & 0xF000);
        Assert.Empty(fifo.Streams);
        var nul = Assert.Single(entries, x => x.Path == "/special/null");
        Assert.Equal(SpecialFileKind.CharDevice, nul.Special);
        Assert.Equal(new DeviceNumber(1, 3), nul.Device);
    }
}
