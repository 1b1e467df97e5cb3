using System.Buffers;
using System.Text;
using Offhost.Core.Mapping;

namespace Offhost.Core.Tests;

public class SpecialFileMapTests
{
    static string Json(MapEntry e)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = StorageMapJson.CreateWriter(buffer)) StorageMapJson.WriteEntry(w, e);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Theory]
    [InlineData(SpecialFileKind.Fifo, "fifo", 0x1000u)]
    [InlineData(SpecialFileKind.CharDevice, "chardev", 0x2000u)]
    [InlineData(SpecialFileKind.BlockDevice, "blockdev", 0x6000u)]
    [InlineData(SpecialFileKind.Socket, "socket", 0xC000u)]
    public void Special_entries_round_trip_with_their_type_name_and_device(SpecialFileKind kind, string name, uint typeBits)
    {
        Assert.Equal(kind, SpecialFiles.FromMode(typeBits | 0b110_100_100));
        Assert.Equal(typeBits, SpecialFiles.TypeBits(kind));
        var device = SpecialFiles.HasDevice(kind) ? new DeviceNumber(7, 200) : (DeviceNumber?)null;
        var e = new MapEntry(MapEntryKind.Special, "/dev/x", 12)
        {
            Special = kind,
            Device = device,
            Mode = typeBits | 0b110_100_100,
            Uid = 1,
            Gid = 2,
            Modified = new MapTime(1_700_000_000, 5),
        };
        string json = Json(e);
        Assert.StartsWith($"{{\"type\":\"{name}\",\"path\":\"/dev/x\"", json);
        Assert.Equal(device is not null, json.Contains("\"rdev\":{\"major\":7,\"minor\":200}", StringComparison.Ordinal));
        var back = StorageMapJson.ReadEntry(Encoding.UTF8.GetBytes(json));
        Assert.Equal(MapEntryKind.Special, back.Kind);
        Assert.Equal(kind, back.Special);
        Assert.Equal(device, back.Device);
        Assert.Equal(e.Mode, back.Mode);
        Assert.Equal(e.Modified, back.Modified);
        Assert.Empty(back.Streams);
    }

    [Fact]
    public void Regular_records_are_unchanged_and_carry_no_special_fields()
    {
        var e = new MapEntry(MapEntryKind.File, "/a", 3) { Mode = 0x81A4 };
        string json = Json(e);
        Assert.Equal("{\"type\":\"file\",\"path\":\"/a\",\"links\":[],\"id\":3,\"sequence\":0,\"size\":0,\"attributes\":[],\"mode\":33188,\"streams\":[]}", json);
        var back = StorageMapJson.ReadEntry(Encoding.UTF8.GetBytes(json));
        Assert.Null(back.Special);
        Assert.Null(back.Device);
    }

    [Fact]
    public void A_special_entry_without_its_kind_is_refused_by_both_writers()
    {
        var e = new MapEntry(MapEntryKind.Special, "/p", 1);
        Assert.Throws<ArgumentException>(() => Json(e));
        using var w = new StorageMapLineWriter(new MemoryStream());
        Assert.Throws<ArgumentException>(() => w.WriteEntry(e));
    }

    [Theory]
    [InlineData(0x8000u)]
    [InlineData(0x4000u)]
    [InlineData(0xA000u)]
    [InlineData(0x0000u)]
    [InlineData(0xE000u)]
    public void Other_file_types_are_not_special(uint mode) => Assert.Null(SpecialFiles.FromMode(mode));

    [Theory]
    [InlineData("{\"type\":\"chardev\",\"path\":\"/c\",\"links\":[],\"id\":1,\"sequence\":0,\"size\":0,\"attributes\":[],\"streams\":[]}")]
    [InlineData("{\"type\":\"fifo\",\"path\":\"/f\",\"links\":[],\"id\":1,\"sequence\":0,\"size\":0,\"attributes\":[],\"rdev\":{\"major\":1,\"minor\":2},\"streams\":[]}")]
    [InlineData("{\"type\":\"file\",\"path\":\"/r\",\"links\":[],\"id\":1,\"sequence\":0,\"size\":0,\"attributes\":[],\"rdev\":{\"major\":1,\"minor\":2},\"streams\":[]}")]
    public void Records_whose_rdev_contradicts_their_type_are_refused(string json) =>
        Assert.Throws<InvalidDataException>(() => StorageMapJson.ReadEntry(Encoding.UTF8.GetBytes(json)));
}
