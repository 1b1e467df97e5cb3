using System.Buffers;
using FsCheck.Xunit;
using Offhost.Core.Mapping;

namespace Offhost.Core.Tests;

/// <summary>The fast line writer must produce exactly the bytes of <see cref="StorageMapJson"/> (Utf8JsonWriter) plus '\n'.</summary>
public class StorageMapLineWriterTests
{
    static byte[] Reference(MapEntry e)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = StorageMapJson.CreateWriter(buffer)) StorageMapJson.WriteEntry(w, e);
        return [.. buffer.WrittenSpan, (byte)'\n'];
    }

    static byte[] Fast(MapEntry e, bool tinyFlushes = false)
    {
        var ms = new MemoryStream();
        using (var w = new StorageMapLineWriter(ms))
        {
            w.WriteEntry(e);
            if (tinyFlushes) w.WriteEntry(e);
        }
        return ms.ToArray();
    }

    static void Same(MapEntry e)
    {
        var want = Reference(e);
        var have = Fast(e);
        Assert.True(want.AsSpan().SequenceEqual(have), $"\nwant {System.Text.Encoding.UTF8.GetString(want)}\nhave {System.Text.Encoding.UTF8.GetString(have)}");
    }

    static MapEntry Sample(string path, string name) => new(MapEntryKind.File, path, 42)
    {
        Links = [path + "2", "/x"],
        Sequence = 3,
        SizeBytes = 10_000,
        Attributes = ["archive", name],
        Created = new MapTime(-5, 0),
        Modified = new MapTime(1_700_000_000, 100),
        Accessed = new MapTime(253402300799, 999_999_999),
        Target = name,
        LinkKind = "symlink",
        Mode = 0x81A4,
        Uid = 0,
        Gid = uint.MaxValue,
        Xattrs = new Dictionary<string, ReadOnlyMemory<byte>> { ["user.k"] = new byte[] { 1, 2, 3 }, [name] = Array.Empty<byte>() },
        Streams =
        [
            new MapStream(name, 10_000)
            {
                InitializedBytes = 9_000,
                Sparse = true,
                Encrypted = true,
                Compressed = true,
                CompressionUnitBytes = 65536,
                Extents =
                [
                    MapExtent.Data(0, 4096, long.MaxValue / 512, 512),
                    MapExtent.Zero(4096, 4096),
                    new MapExtent(8192, 1808, ExtentKind.Compressed, 0, 0) { Runs = [new PhysicalRun(100, 2), new PhysicalRun(-1, 0)] },
                ],
            },
            new MapStream("", 3) { ResidentData = new byte[] { 7, 8, 9 }, InitializedBytes = 3 },
            new MapStream("e", 0) { ResidentData = Array.Empty<byte>() },
        ],
    };

    [Theory]
    [InlineData("/plain/ascii name.txt")]
    [InlineData("/quote\"back\\slash")]
    [InlineData("/ctl\u0001\t\n\r\b\f\u001f\u007f")]
    [InlineData("/unicode/é/日本/\u2028\u2029/\ufeff")]
    [InlineData("/emoji/\U0001F600/<html>&'+`")]
    [InlineData("/lone\ud800surrogate\udc00")]
    [InlineData("")]
    public void Matches_the_reference_writer(string path)
    {
        Same(Sample(path, path));
        Same(new MapEntry(MapEntryKind.Directory, path, 5));
        Same(new MapEntry(MapEntryKind.Unmappable, path, 7) { Error = "bad " + path });
        Same(new MapEntry(MapEntryKind.Symlink, path, ulong.MaxValue) { Target = path, Streams = [new MapStream("", 0)] });
        foreach (var special in Enum.GetValues<SpecialFileKind>())
            Same(new MapEntry(MapEntryKind.Special, path, 9)
            {
                Special = special,
                Mode = SpecialFiles.TypeBits(special) | 0b110_100_000,
                Device = SpecialFiles.HasDevice(special) ? new DeviceNumber(uint.MaxValue, 0) : null,
            });
    }

    [Property(MaxTest = 500)]
    public bool Special_entries_match_the_reference_writer(string? path, byte kind, uint major, uint minor, bool device)
    {
        var e = new MapEntry(MapEntryKind.Special, path ?? "", major)
        {
            Special = (SpecialFileKind)(kind % 4),
            Device = device ? new DeviceNumber(major, minor) : null,
            Uid = minor,
        };
        return Reference(e).AsSpan().SequenceEqual(Fast(e));
    }

    [Property(MaxTest = 2000)]
    public bool Matches_the_reference_writer_for_arbitrary_strings_and_numbers(string? path, string? name, byte[]? data, long a, long b, ulong id, uint seq, bool flag)
    {
        path ??= "";
        name ??= "";
        data ??= [];
        var e = new MapEntry(flag ? MapEntryKind.File : MapEntryKind.Symlink, path, id)
        {
            Links = flag ? [name] : [],
            Sequence = seq,
            SizeBytes = a,
            Attributes = [name, path],
            Changed = new MapTime(b % 253402300799, (int)(seq % 1_000_000_000)),
            Target = flag ? null : name,
            Mode = flag ? seq : null,
            Xattrs = name.Length > 0 ? new Dictionary<string, ReadOnlyMemory<byte>> { [name] = data } : new Dictionary<string, ReadOnlyMemory<byte>>(),
            Streams =
            [
                new MapStream(name, a) { ResidentData = flag ? data : null, InitializedBytes = b, Extents = flag ? [] : [new MapExtent(a, b, ExtentKind.Data, a ^ b, b)] },
            ],
        };
        return Reference(e).AsSpan().SequenceEqual(Fast(e));
    }

    [Property(MaxTest = 5000)]
    public bool Time_text_matches_MapTime(long seconds, int nanoseconds, bool inRange, bool nearEpoch)
    {
        if (inRange) nanoseconds = (int)((uint)nanoseconds % 1_000_000_000);
        if (nearEpoch) seconds %= 400L * 366 * 86400;
        var t = new MapTime(seconds, nanoseconds);
        Span<byte> want = stackalloc byte[MapTime.MaxUtf8Bytes + 10];
        Span<byte> have = stackalloc byte[MapTime.MaxUtf8Bytes + 10];
        if (nanoseconds < 0) return true;   // not a time any mapper produces; MapTime itself cannot print it
        int n = t.FormatUtf8(want);
        int m = StorageMapLineWriter.FormatTime(t, have);
        return want[..n].SequenceEqual(have[..m]);
    }

    [Theory]
    [InlineData(-62135596800L, 0)]
    [InlineData(-62135596801L, 5)]
    [InlineData(253402300799L, 999_999_999)]
    [InlineData(253402300800L, 1)]
    [InlineData(951782400L, 10)]       // 2000-02-29
    [InlineData(-1L, 100)]
    [InlineData(0L, 0)]
    [InlineData(4107542400L, 0)]       // 2100-03-01
    public void Time_text_matches_MapTime_at_the_edges(long seconds, int nanoseconds)
    {
        var t = new MapTime(seconds, nanoseconds);
        var want = new byte[MapTime.MaxUtf8Bytes];
        var have = new byte[MapTime.MaxUtf8Bytes];
        int n = t.FormatUtf8(want);
        int m = StorageMapLineWriter.FormatTime(t, have);
        Assert.Equal(System.Text.Encoding.ASCII.GetString(want, 0, n), System.Text.Encoding.ASCII.GetString(have, 0, m));
    }

    [Fact]
    public void Records_larger_than_the_buffer_are_written_whole()
    {
        var big = new byte[3 << 20];
        new Random(1).NextBytes(big);
        var e = Sample(new string('p', 1_500_000), "n") with { Xattrs = new Dictionary<string, ReadOnlyMemory<byte>> { ["user.big"] = big } };
        var want = Reference(e);
        var have = Fast(e, tinyFlushes: true);
        Assert.Equal(want.Length * 2, have.Length);
        Assert.True(want.AsSpan().SequenceEqual(have.AsSpan(0, want.Length)));
        Assert.True(want.AsSpan().SequenceEqual(have.AsSpan(want.Length)));
    }

    [Fact]
    public void The_volume_record_is_the_reference_line()
    {
        var v = new VolumeInfo("ext4", "dev\"id", 512, 4096, 1048576, 1L << 40, "lab\u00e9l", "serial") { Uuid = "u", Partition = 2, Warnings = ["w1", "w\n2"] };
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = StorageMapJson.CreateWriter(buffer)) StorageMapJson.WriteVolume(w, v);
        var ms = new MemoryStream();
        using (var w = new StorageMapLineWriter(ms)) w.WriteVolume(v);
        Assert.Equal([.. buffer.WrittenSpan, (byte)'\n'], ms.ToArray());
    }
}
