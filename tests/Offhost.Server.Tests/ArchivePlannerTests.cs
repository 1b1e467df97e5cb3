using Offhost.Core.Devices;
using Offhost.Core.Mapping;
using Offhost.Server.Planning;
using Offhost.Testing;

namespace Offhost.Server.Tests;

/// <summary>
/// The planner's output, materialised by reading the device at each step, is a pax archive that GNU tar
/// extracts to exactly the files the storage map describes.
/// </summary>
public class ArchivePlannerTests
{
    const int BlockSize = 512;
    static readonly byte[] Device = TestData.Random(7, 8 << 20);
    static readonly MemoryBlockSource Source = new(Device);
    static readonly VolumeInfo Volume = new("ext4", "memory", BlockSize, 4096, 0, Device.Length, "t", "s");

    static byte[] DeviceBytes(long lba, long length) => Device.AsSpan((int)(lba * BlockSize), (int)length).ToArray();

    /// <summary>Reads the device as the mover would, one step at a time.</summary>
    public static byte[] Materialise(IEnumerable<CopyOp> ops)
    {
        var output = new MemoryStream();
        foreach (var op in ops)
        {
            switch (op)
            {
                case InlineOp i: output.Write(i.Data.Span); break;
                case BlocksOp b: output.Write(Device, (int)(b.Lba * BlockSize), (int)(b.Blocks * BlockSize)); break;
                case ByteRangeOp r: output.Write(Device, (int)(r.Lba * BlockSize + r.ByteOffsetInBlock), (int)r.LengthBytes); break;
            }
        }
        return output.ToArray();
    }

    static MapEntry File(string path, ulong id, long size, params MapExtent[] extents) =>
        new(MapEntryKind.File, path, id)
        {
            SizeBytes = size,
            Mode = 0x81A4,
            Modified = new MapTime(1_700_000_000, 500),
            Streams = [new MapStream("", size) { InitializedBytes = size, Extents = extents }],
        };

    static (List<MapEntry> Entries, Dictionary<string, byte[]> Expected) Fixture()
    {
        var expected = new Dictionary<string, byte[]>();
        var entries = new List<MapEntry>
        {
            new(MapEntryKind.Directory, "/d", 2) { Mode = 0x41ED },
            File("/d/fragmented.bin", 10, 3 * 4096 + 100,
                MapExtent.Data(0, 4096, 100, BlockSize), MapExtent.Data(4096, 8192, 2000, BlockSize), MapExtent.Data(12288, 100, 40, BlockSize)),
            File("/d/sparse.bin", 11, (1 << 20) + 300,
                MapExtent.Data(0, 8192, 3000, BlockSize), MapExtent.Zero(8192, (1 << 20) - 8192), MapExtent.Data(1 << 20, 300, 5000, BlockSize)),
            File("/d/short-tail.bin", 12, 4096 + 1000, MapExtent.Data(0, 4096, 6000, BlockSize), MapExtent.Zero(4096, 1000)),
            File("/d/odd-middle.bin", 13, 1000 + 4096, MapExtent.Data(0, 1000, 7000, BlockSize), MapExtent.Data(1000, 4096, 7100, BlockSize)),
            File("/d/empty", 14, 0),
            new(MapEntryKind.File, "/d/resident.txt", 15)
            {
                SizeBytes = 5, Mode = 0x81A4, Links = ["/hardlink.txt"],
                Streams = [new MapStream("", 5) { ResidentData = "hello"u8.ToArray(), InitializedBytes = 5 }],
            },
            new(MapEntryKind.Symlink, "/d/link", 16) { Target = "resident.txt", Mode = 0xA1FF },
        };
        var frag = new byte[3 * 4096 + 100];
        DeviceBytes(100, 4096).CopyTo(frag, 0); DeviceBytes(2000, 8192).CopyTo(frag, 4096); DeviceBytes(40, 100).CopyTo(frag, 12288);
        expected["d/fragmented.bin"] = frag;
        var sparse = new byte[(1 << 20) + 300];
        DeviceBytes(3000, 8192).CopyTo(sparse, 0); DeviceBytes(5000, 300).CopyTo(sparse, 1 << 20);
        expected["d/sparse.bin"] = sparse;
        var tail = new byte[4096 + 1000];
        DeviceBytes(6000, 4096).CopyTo(tail, 0);
        expected["d/short-tail.bin"] = tail;
        var odd = new byte[1000 + 4096];
        DeviceBytes(7000, 1000).CopyTo(odd, 0); DeviceBytes(7100, 4096).CopyTo(odd, 1000);
        expected["d/odd-middle.bin"] = odd;
        expected["d/empty"] = [];
        expected["d/resident.txt"] = "hello"u8.ToArray();
        expected["hardlink.txt"] = "hello"u8.ToArray();
        return (entries, expected);
    }

    [Fact]
    public void GNU_tar_extracts_the_planned_archive_byte_for_byte()
    {
        Requires.Tool("tar");
        var (entries, expected) = Fixture();
        var planner = new ArchivePlanner(Volume, Source, new ArchivePlanOptions());
        var members = planner.Plan(entries, CancellationToken.None).ToList();
        var ops = members.SelectMany(m => m.Ops).Append(planner.EndOfArchive()).ToList();
        var archive = Materialise(ops);
        Assert.Equal(planner.ArchiveOffsetBytes, archive.Length);
        Assert.Equal(0, archive.Length % 512);

        using var s = new Scratch("planner-tar");
        System.IO.File.WriteAllBytes(s["a.tar"], archive);
        Directory.CreateDirectory(s["out"]);
        Tool.Run("tar", "-xf", s["a.tar"], "-C", s["out"]);
        foreach (var (path, bytes) in expected)
            Assert.Equal(bytes, System.IO.File.ReadAllBytes(Path.Combine(s["out"], path)));
        Assert.Equal("resident.txt", new FileInfo(s["out/d/link"]).LinkTarget);
        Assert.Equal(new DateTime(2023, 11, 14, 22, 13, 20, DateTimeKind.Utc).AddTicks(5), System.IO.File.GetLastWriteTimeUtc(s["out/d/fragmented.bin"]));

        // The sparse member's hole is not stored: the archive is far smaller than the logical bytes.
        Assert.True(archive.Length < 200_000, $"archive is {archive.Length} bytes");
    }

    [Fact]
    public void Members_of_a_volume_without_permissions_get_the_modes_a_posix_reader_expects()
    {
        var ntfs = Volume with { FileSystem = "ntfs" };
        var planner = new ArchivePlanner(ntfs, Source, new ArchivePlanOptions());
        var entries = new List<MapEntry>
        {
            new(MapEntryKind.Directory, "/d", 2),
            new(MapEntryKind.Symlink, "/d/link", 3) { Target = "x", LinkKind = "symlink" },
            new(MapEntryKind.Symlink, "/d/junction", 4) { Target = "/d", LinkKind = "junction" },
            new(MapEntryKind.File, "/d/f", 5) { Streams = [new MapStream("", 0)] },
        };
        var modes = planner.Plan(entries, CancellationToken.None).ToDictionary(m => m.Pax.Path, m => m.Pax.Mode);
        Assert.Equal(0b111_101_101u, modes["d"]);
        Assert.Equal(0b111_111_111u, modes["d/link"]);
        Assert.Equal(0b111_111_111u, modes["d/junction"]);
        Assert.Equal(0b110_100_100u, modes["d/f"]);
    }

    [Fact]
    public void Stored_ranges_point_at_the_stream_bytes_inside_the_archive()
    {
        var (entries, expected) = Fixture();
        var planner = new ArchivePlanner(Volume, Source, new ArchivePlanOptions());
        var members = planner.Plan(entries, CancellationToken.None).ToList();
        var archive = Materialise(members.SelectMany(m => m.Ops));
        foreach (var m in members.Where(m => m.Pax.Kind == Formats.Tape.Pax.PaxEntryKind.File))
        {
            var stream = m.Streams.Single();
            var rebuilt = new byte[stream.SizeBytes];
            foreach (var r in stream.Ranges)
                archive.AsSpan((int)r.ArchiveOffsetBytes, (int)r.LengthBytes).CopyTo(rebuilt.AsSpan((int)r.FileOffsetBytes));
            Assert.Equal(expected[m.Pax.Path], rebuilt);
        }
    }

    [Fact]
    public void Zero_ranges_never_become_device_reads()
    {
        var (entries, _) = Fixture();
        var planner = new ArchivePlanner(Volume, Source, new ArchivePlanOptions());
        var reads = planner.Plan(entries, CancellationToken.None).SelectMany(m => m.Ops)
            .Select(op => op switch { BlocksOp b => (b.Lba * BlockSize, b.Blocks * BlockSize), ByteRangeOp r => (r.Lba * BlockSize + r.ByteOffsetInBlock, r.LengthBytes), _ => (-1L, 0L) })
            .Where(x => x.Item1 >= 0).ToList();
        long readBytes = reads.Sum(r => r.Item2);
        long dataBytes = 3 * 4096 + 100 + 8192 + 300 + 4096 + 1000 + 4096;
        Assert.InRange(readBytes, dataBytes, dataBytes + 4 * 512);   // at most the padding of a few final blocks
    }

    [Fact]
    public void Special_files_become_data_less_members_with_their_type_and_device_number()
    {
        var when = new MapTime(1_600_000_000, 0);
        MapEntry[] entries =
        [
            new(MapEntryKind.Special, "/dev/fifo", 20) { Special = SpecialFileKind.Fifo, Mode = 0x11A0, Uid = 5, Modified = when },
            new(MapEntryKind.Special, "/dev/null", 21) { Special = SpecialFileKind.CharDevice, Device = new DeviceNumber(1, 3), Mode = 0x21B6, Links = ["/dev/null2"], Modified = when },
            new(MapEntryKind.Special, "/dev/sda", 22) { Special = SpecialFileKind.BlockDevice, Device = new DeviceNumber(8, 0), Mode = 0x6180, Modified = when },
            new(MapEntryKind.Special, "/dev/sock", 23) { Special = SpecialFileKind.Socket, Mode = 0xC1ED, Modified = when },
        ];
        var planner = new ArchivePlanner(Volume, Source, new ArchivePlanOptions());
        var members = planner.Plan(entries, CancellationToken.None).ToList();
        Assert.All(members, m => Assert.All(m.Ops, op => Assert.IsType<InlineOp>(op)));
        Assert.All(members, m => Assert.Empty(m.Streams));
        var archive = Materialise(members.SelectMany(m => m.Ops).Append(planner.EndOfArchive()));
        var read = Formats.Tape.Pax.PaxHeaderReader.ReadAll(archive);
        Assert.Equal(
        [
            ("dev/fifo", Formats.Tape.Pax.PaxEntryKind.Fifo, (DeviceNumber?)null, 0x1A0u),
            ("dev/null", Formats.Tape.Pax.PaxEntryKind.CharDevice, new DeviceNumber(1, 3), 0x1B6u),
            ("dev/null2", Formats.Tape.Pax.PaxEntryKind.HardLink, null, 0x1B6u),
            ("dev/sda", Formats.Tape.Pax.PaxEntryKind.BlockDevice, new DeviceNumber(8, 0), 0x180u),
            ("dev/sock", Formats.Tape.Pax.PaxEntryKind.Socket, null, 0x1EDu),
        ], read.Select(m => (m.Path, m.Kind, m.Device, m.Mode)));
        Assert.Equal("dev/null", read[2].LinkTarget);
    }

    [Fact]
    public void A_device_entry_without_its_number_is_refused()
    {
        var planner = new ArchivePlanner(Volume, Source, new ArchivePlanOptions());
        var entry = new MapEntry(MapEntryKind.Special, "/dev/x", 1) { Special = SpecialFileKind.BlockDevice };
        Assert.Throws<InvalidDataException>(() => planner.Plan([entry], CancellationToken.None).ToList());
    }
}
