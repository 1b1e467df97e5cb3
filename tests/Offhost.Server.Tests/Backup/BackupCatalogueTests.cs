using Offhost.Catalog;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Index;
using Offhost.Formats.Tape.Pax;
using Offhost.Server.Backup;
using Offhost.Testing;

namespace Offhost.Server.Tests.Backup;

/// <summary>The catalogue reads the stored map alongside the index and writes each file as it is complete; members that
/// complete a file already written (a late stream, a distant hard link) and a map in another order than the index must
/// still end up on the right rows.</summary>
public class BackupCatalogueTests
{
    static TapeIndexEntry Member(string path, long at, string stream = "", long size = 100, PaxEntryKind kind = PaxEntryKind.File) =>
        new(path, kind, at)
        {
            SizeBytes = size,
            Streams = kind == PaxEntryKind.File ? [new TapeIndexStream(stream, size, at, at + 512, (ulong)at) { Storage = TapeStreamStorage.MemberData }] : [],
        };

    static TapeIndexEntry Link(string path, string target) => new(path, PaxEntryKind.HardLink, -1) { LinkTarget = target };

    static MapEntry File(string path, long lba, params string[] links) => new(MapEntryKind.File, path, (ulong)lba)
    {
        SizeBytes = 100,
        Links = links,
        Streams = [new MapStream("", 100) { InitializedBytes = 100, Extents = [MapExtent.Data(0, 100, lba, 512)] }],
    };

    [Fact]
    public void Late_streams_distant_links_and_a_map_in_another_order_land_on_the_right_files()
    {
        using var s = new Scratch("catalogue-stream");
        using var catalog = Catalog.Catalog.Open(s["c.db"]);
        var backup = catalog.BeginBackup([new BackupSource("/dev/x", "ext4")]);
        var index = new TapeIndex(new TapeIndexHeader(Guid.NewGuid(), "/dev/x", MapTime.FromDateTimeOffset(DateTimeOffset.UnixEpoch), 1),
        [
            Member("a", 0),
            Member("b", 1024),
            Member("b:big", 2048, stream: "big"),       // right after its file
            Member("c", 4096),
            Member("a:late", 5120, stream: "late"),     // a is written by now
            Link("x/link-to-a", "a"),                  // a distant name of a
            Link("c2", "c"),                           // c is still held
            Member("d", 6144),                         // in the index, not in the map
            Member(".offhost/volume-1.map.jsonl.gz", 7168),
        ]);
        // The map lists c first, holds an entry the archive does not ("/gone"), and names a's other name.
        var map = new[] { File("/c", 30), File("/gone", 40), File("/a", 10, "/x/link-to-a"), File("/b", 20) };

        var (files, dataBytes) = BackupCatalogue.RecordFiles(catalog, backup.Id, "T1", 1, index, new[] { (IEnumerable<MapEntry>)map });

        Assert.Equal(4, files);
        Assert.Equal(6 * 100, dataBytes);
        var a = catalog.GetFile(backup.Id, "/a")!;
        Assert.Equal(["/x/link-to-a"], a.Links);
        Assert.Equal(["", "late"], a.Streams.Select(x => x.Name));
        Assert.Equal(10, Assert.Single(a.Streams[0].Extents).Lba);
        Assert.Equal(5120, a.Streams[1].Location!.Value.HeaderOffsetBytes);
        var b = catalog.GetFile(backup.Id, "/b")!;
        Assert.Equal(["", "big"], b.Streams.Select(x => x.Name));
        Assert.Equal(20, Assert.Single(b.Streams[0].Extents).Lba);
        var c = catalog.GetFile(backup.Id, "/c")!;
        Assert.Equal(["/c2"], c.Links);
        Assert.Equal(30, Assert.Single(c.Streams[0].Extents).Lba);
        var d = catalog.GetFile(backup.Id, "/d")!;
        Assert.Empty(d.Streams[0].Extents);
        Assert.Null(catalog.GetFile(backup.Id, "/gone"));
        Assert.Null(catalog.GetFile(backup.Id, "/x/link-to-a"));
    }
}
