using System.Buffers;
using Offhost.Core.Mapping;

namespace Offhost.Core.Tests;

public class StorageMapJsonTests
{
    static byte[] Write(Action<System.Text.Json.Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = StorageMapJson.CreateWriter(buffer)) write(w);
        return buffer.WrittenSpan.ToArray();
    }

    [Fact]
    public void An_entry_with_every_kind_of_extent_round_trips()
    {
        var entry = new MapEntry(MapEntryKind.File, "/dir/a.bin", 42)
        {
            Links = ["/other/a.bin"],
            Sequence = 3,
            SizeBytes = 10_000,
            Attributes = ["archive"],
            Modified = new MapTime(1_700_000_000, 100),
            Xattrs = new Dictionary<string, ReadOnlyMemory<byte>> { ["user.k"] = new byte[] { 1, 2, 3 } },
            Streams =
            [
                new MapStream("", 10_000)
                {
                    InitializedBytes = 9_000,
                    Extents =
                    [
                        MapExtent.Data(0, 4096, 2048, 512),
                        MapExtent.Zero(4096, 4096),
                        new MapExtent(8192, 1808, ExtentKind.Compressed, 0, 0) { Runs = [new PhysicalRun(100, 2)] },
                    ],
                },
                new MapStream("ads", 3) { ResidentData = new byte[] { 7, 8, 9 }, InitializedBytes = 3 },
            ],
        };
        var back = StorageMapJson.ReadEntry(Write(w => StorageMapJson.WriteEntry(w, entry)));
        Assert.Equal(entry.Path, back.Path);
        Assert.Equal(entry.Links, back.Links);
        Assert.Equal(entry.Modified, back.Modified);
        Assert.Equal(new byte[] { 1, 2, 3 }, back.Xattrs["user.k"].ToArray());
        Assert.Equal(entry.Streams[0].Extents.Take(2), back.Streams[0].Extents.Take(2));
        Assert.Equal(ExtentKind.Compressed, back.Streams[0].Extents[2].Kind);
        Assert.Equal(new PhysicalRun(100, 2), back.Streams[0].Extents[2].Runs.Single());
        Assert.Equal(new byte[] { 7, 8, 9 }, back.Streams[1].ResidentData!.Value.ToArray());
    }

    [Fact]
    public void Data_extent_blocks_cover_the_length_rounded_up()
    {
        Assert.Equal(3, MapExtent.Data(0, 1025, 0, 512).Blocks);
        Assert.Equal(2, MapExtent.Data(0, 1024, 0, 512).Blocks);
    }
}
