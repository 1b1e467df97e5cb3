using Offhost.Core.Mapping;
using Offhost.Io.Block;

namespace Offhost.Formats.Ntfs.Tests;

[Trait("Category", "Integration")]
public sealed class FeatureVolumeTests(FeatureVolumeFixture fx) : IClassFixture<FeatureVolumeFixture>
{
    MapEntry Entry(string path) => fx.Map.Entries.Single(e => e.Path == path || e.Links.Contains(path));

    [Fact]
    public void Every_file_and_stream_matches_ntfs3g()
    {
        fx.Builder.Mount(readOnly: true);
        try
        {
            int compared = MapVerifier.AssertMatchesMount(fx.Builder.ImagePath, fx.Map, fx.Builder.MountPoint, checkStreams: true);
            Assert.True(compared > 40, $"only {compared} streams compared");
        }
        finally
        {
            fx.Builder.Unmount();
        }
    }

    [Fact]
    public void Volume_record_describes_the_volume()
    {
        var v = fx.Map.Volume;
        Assert.Equal("ntfs", v.FileSystem);
        Assert.Equal("Features", v.Label);
        Assert.Equal(512, v.BlockSizeBytes);
        Assert.Equal(4096, v.ClusterSizeBytes);
        Assert.Equal(0, v.PartitionOffsetBytes);
        Assert.Equal(16, v.Serial!.Length);
        Assert.InRange(v.SizeBytes, 192L * 1024 * 1024 - 4096, 192L * 1024 * 1024);
        Assert.True(fx.Map.Statistics.RecordsScanned >= fx.Map.Entries.Count + 16, $"{fx.Map.Statistics.RecordsScanned} records scanned");
        Assert.Equal("/", fx.Map.Entries.Single(e => e.Id == 5).Path);
        Assert.DoesNotContain(fx.Map.Entries, e => e.Path.StartsWith("/$", StringComparison.Ordinal));
    }

    [Fact]
    public void Small_files_are_resident_and_larger_ones_are_not()
    {
        Assert.True(Entry("/small/f100").Streams[0].IsResident);
        Assert.False(Entry("/small/f2000").Streams[0].IsResident);
        // The resident limit lies between these two sizes on a 1 KiB FILE record.
        var sizes = new[] { 600, 650, 680, 700, 720, 740, 760, 800, 900, 1000 };
        var resident = sizes.Select(n => Entry($"/small/f{n}").Streams[0].IsResident).ToArray();
        Assert.Contains(true, resident);
        Assert.Contains(false, resident);
    }

    [Fact]
    public void Fragmented_file_needs_an_attribute_list_and_many_extents()
    {
        Assert.True(fx.Map.AttributeListsSeen >= 1, "no $ATTRIBUTE_LIST was seen");
        Assert.True(fx.Map.SplitStreams >= 1, "no $DATA split over several FILE records was seen");
        var s = Entry("/fragmented.bin").Streams.Single();
        Assert.True(s.Extents.Count > 200, $"only {s.Extents.Count} extents");
        var info = Offhost.Testing.Tool.Run("ntfsinfo", "-F", "/fragmented.bin", fx.Builder.ImagePath);
        Assert.Contains("$ATTRIBUTE_LIST", info, StringComparison.Ordinal);
    }

    [Fact]
    public void Sparse_files_have_zero_extents()
    {
        var s = Entry("/sparse-middle").Streams.Single();
        Assert.Equal(50L * 1024 * 1024, s.SizeBytes);
        Assert.Contains(s.Extents, x => x.Kind == ExtentKind.Zero);
        Assert.True(s.Extents.Where(x => x.Kind == ExtentKind.Data).Sum(x => x.LengthBytes) <= 1024 * 1024);
        var empty = Entry("/sparse-empty").Streams.Single();
        Assert.All(empty.Extents, x => Assert.Equal(ExtentKind.Zero, x.Kind));
    }

    [Fact]
    public void Bytes_past_the_initialized_size_are_zero_extents()
    {
        var s = Entry("/short-init").Streams.Single();
        Assert.Equal(300000, s.SizeBytes);
        Assert.Equal(5000, s.InitializedBytes);
        Assert.Equal(5000, s.Extents.Where(x => x.Kind == ExtentKind.Data).Sum(x => x.LengthBytes));
        Assert.Equal(ExtentKind.Zero, s.Extents[^1].Kind);
        Assert.Equal(300000, s.Extents[^1].EndBytes);
    }

    [Fact]
    public void Json_lines_round_trip_keeps_every_entry()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        foreach (var e in fx.Map.Entries)
        {
            buffer.Clear();
            using (var w = StorageMapJson.CreateWriter(buffer)) StorageMapJson.WriteEntry(w, e);
            var back = StorageMapJson.ReadEntry(buffer.WrittenSpan);
            Assert.Equal((e.Kind, e.Path, e.Id, e.SizeBytes, e.Target), (back.Kind, back.Path, back.Id, back.SizeBytes, back.Target));
            Assert.Equal(e.Links, back.Links);
            Assert.Equal(e.Modified, back.Modified);
            Assert.Equal(e.Streams.Count, back.Streams.Count);
            for (int i = 0; i < e.Streams.Count; i++)
            {
                Assert.Equal(e.Streams[i].Extents, back.Streams[i].Extents, (a, b) => a.OffsetBytes == b.OffsetBytes && a.LengthBytes == b.LengthBytes
                    && a.Kind == b.Kind && (a.Kind == ExtentKind.Compressed ? a.Runs.SequenceEqual(b.Runs) : a.Lba == b.Lba && a.Blocks == b.Blocks));
                Assert.Equal(e.Streams[i].InitializedBytes, back.Streams[i].InitializedBytes);
            }
        }
    }

    [Fact]
    public void Alternate_data_streams_are_mapped()
    {
        var e = Entry("/ads.txt");
        Assert.Equal(["", "big", "small"], e.Streams.Select(s => s.Name).Order(StringComparer.Ordinal));
        Assert.False(e.Streams.Single(s => s.Name == "big").IsResident);
        Assert.Contains(Entry("/adsdir").Streams, s => s.Name == "ondir");
    }

    [Fact]
    public void Hard_links_share_one_entry()
    {
        var e = Entry("/hl1");
        Assert.Equal(3, 1 + e.Links.Count);
        Assert.Equal(new[] { "/hl1", "/hl3", "/other/hl2" }, e.Links.Append(e.Path).Order(StringComparer.Ordinal));
        Assert.Same(e, Entry("/other/hl2"));
    }

    [Fact]
    public void Symlinks_have_targets()
    {
        var rel = Entry("/sym-rel");
        Assert.Equal(MapEntryKind.Symlink, rel.Kind);
        Assert.Equal("hl1", rel.Target);
        Assert.Equal("symlink", rel.LinkKind);
        Assert.Equal("/absolute/target/path", Entry("/sym-abs").Target);
    }

    [Fact]
    public void Unicode_and_long_names_survive()
    {
        Assert.Equal(MapEntryKind.File, Entry("/héllo wörld ☃ 日本語.txt").Kind);
        Assert.Equal(MapEntryKind.File, Entry("/ディレクトリ/файл").Kind);
        Assert.Equal(MapEntryKind.File, Entry("/" + new string('L', 255)).Kind);
        Assert.Equal(MapEntryKind.File, Entry("/deep/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/leaf").Kind);
    }

    [Fact]
    public void Compressed_files_decompress_to_their_content()
    {
        var text = Entry("/comp/text.txt");
        var s = text.Streams.Single();
        Assert.True(s.Compressed);
        Assert.Equal(65536, s.CompressionUnitBytes);
        Assert.Contains(s.Extents, x => x.Kind == ExtentKind.Compressed);
        Assert.Contains("compressed", text.Attributes);
        // Random data does not compress: its units are stored as plain data.
        var random = Entry("/comp/random.bin").Streams.Single();
        Assert.Contains(random.Extents, x => x.Kind == ExtentKind.Data);
        var mixed = Entry("/comp/mixed.bin").Streams.Single();
        Assert.Contains(mixed.Extents, x => x.Kind == ExtentKind.Compressed);
        Assert.Contains(mixed.Extents, x => x.Kind == ExtentKind.Data);
        var sparse = Entry("/comp/sparse.txt").Streams.Single();
        Assert.Contains(sparse.Extents, x => x.Kind == ExtentKind.Zero);
        using var device = new FileBlockSource(fx.Builder.ImagePath);
        var bytes = MapVerifier.ReadStream(device, s, 512);
        Assert.Equal(300000, bytes.Length);
        Assert.StartsWith("a compressible line of text for LZNT1\n", System.Text.Encoding.ASCII.GetString(bytes, 0, 100), StringComparison.Ordinal);
    }

    [Fact]
    public void Attribute_flags_are_named()
    {
        Assert.Contains("readonly", Entry("/readonly.txt").Attributes);
        Assert.Contains("hidden", Entry("/hidden.txt").Attributes);
        Assert.Contains("archive", Entry("/hidden.txt").Attributes);
    }

    [Fact]
    public void Creation_times_match_ntfs_crtime()
    {
        fx.Builder.Mount(readOnly: true);
        try
        {
            foreach (var path in new[] { "/hl1", "/small/f100", "/comp/text.txt", "/d" })
            {
                var e = Entry(path);
                string hex = Offhost.Testing.Tool.Run("getfattr", "--absolute-names", "-n", "system.ntfs_crtime", "-e", "hex", fx.Builder[path])
                    .Split('\n').Single(l => l.StartsWith("system.ntfs_crtime=", StringComparison.Ordinal)).Split("=0x")[1];
                long fileTime = BitConverter.ToInt64(Convert.FromHexString(hex));
                Assert.Equal(MapTime.FromFileTime(fileTime), e.Created);
            }
        }
        finally
        {
            fx.Builder.Unmount();
        }
    }
}
