using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Google.Protobuf;
using Offhost.Agent.Configuration;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Rpc;
using Offhost.Rpc.V1;

namespace Offhost.TwoHosts.Tests;

/// <summary>The map codec over arbitrary bytes and its round trip; the entry fingerprint over every field.</summary>
public class CodecTests
{
    const int Block = 512;
    const long Device = 1L << 30;

    [Property(MaxTest = 2000)]
    public bool Map_chunk_of_arbitrary_bytes_decodes_or_raises_a_named_error(byte[] bytes)
    {
        MapChunk chunk;
        try { chunk = MapChunk.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException) { return true; }
        try
        {
            if (chunk.VolumeRecord is not null) MapMessages.FromMessage(chunk.VolumeRecord, 0);
            long i = 0;
            foreach (var e in chunk.Entries)
            {
                var entry = MapMessages.FromMessage(e, Block, Device, i++);
                foreach (var s in entry.Streams)
                    if (s.Extents.Sum(x => x.LengthBytes) != s.SizeBytes && !s.IsResident) return false;
            }
            return true;
        }
        catch (CorruptStructureException e) { return e.Message.Contains("agent", StringComparison.Ordinal); }
    }

    [Property(MaxTest = 500)]
    public bool Entry_messages_with_arbitrary_extents_decode_or_raise_a_named_error(long[] offsets, long[] lengths, long[] lbas, int kind)
    {
        var m = new Entry { Path = "/f", SizeBytes = lengths.Length == 0 ? 0 : Math.Abs(lengths[0] % (1 << 20)) };
        var s = new Rpc.V1.Stream { Name = "", SizeBytes = m.SizeBytes, InitializedBytes = m.SizeBytes };
        for (int i = 0; i < Math.Min(offsets.Length, Math.Min(lengths.Length, lbas.Length)); i++)
            s.Extents.Add(new Extent { OffsetBytes = offsets[i], LengthBytes = lengths[i], Lba = lbas[i], Blocks = lengths[i] / Block, Kind = (Extent.Types.Kind)(Math.Abs(kind % 4)) });
        m.Streams.Add(s);
        try
        {
            var e = MapMessages.FromMessage(m, Block, Device, 0);
            return e.Streams[0].Extents.All(x => x.OffsetBytes >= 0 && x.LengthBytes > 0 && (x.Kind != ExtentKind.Data || (x.Lba >= 0 && (x.Lba + x.Blocks) * Block <= Device)));
        }
        catch (CorruptStructureException) { return true; }
    }

    static MapEntry Sample(int seed)
    {
        var r = new Random(seed);
        long size = r.Next(1, 1 << 20);
        var extents = new List<MapExtent>();
        long at = 0;
        while (at < size)
        {
            long len = Math.Min(size - at, r.Next(1, 200_000));
            extents.Add(r.Next(4) == 0 ? MapExtent.Zero(at, len) : MapExtent.Data(at, len, r.Next(0, 1_000_000), Block));
            at += len;
        }
        return new MapEntry(MapEntryKind.File, $"/d{seed}/f", (ulong)r.NextInt64())
        {
            Links = seed % 2 == 0 ? [$"/link{seed}"] : [],
            Sequence = (uint)r.Next(),
            SizeBytes = size,
            Attributes = ["archive"],
            Created = new MapTime(r.Next(), r.Next(0, 999_999_999)),
            Modified = new MapTime(r.Next(), r.Next(0, 999_999_999)),
            Changed = new MapTime(r.Next(), 0),
            Accessed = null,
            Mode = 0x81A4,
            Uid = (uint)r.Next(1000),
            Gid = (uint)r.Next(1000),
            Xattrs = new Dictionary<string, ReadOnlyMemory<byte>> { ["user.k"] = new byte[] { (byte)seed, 2, 3 } },
            Streams =
            [
                new MapStream("", size) { InitializedBytes = size, Extents = extents },
                new MapStream("ads", 3) { ResidentData = new byte[] { 1, 2, (byte)seed }, InitializedBytes = 3 },
            ],
        };
    }

    [Property(MaxTest = 300)]
    public bool Entries_round_trip_through_their_messages(int seed)
    {
        var e = Sample(seed);
        var bytes = MapMessages.ToMessage(e).ToByteArray();
        var back = MapMessages.FromMessage(Entry.Parser.ParseFrom(bytes), Block, Device, 0);
        return EntryFingerprint.Compute(back) == EntryFingerprint.Compute(e)
            && back.Streams[0].Extents.SequenceEqual(e.Streams[0].Extents)
            && back.Xattrs["user.k"].Span.SequenceEqual(e.Xattrs["user.k"].Span);
    }

    [Theory]
    [InlineData(SpecialFileKind.Fifo)]
    [InlineData(SpecialFileKind.CharDevice)]
    [InlineData(SpecialFileKind.BlockDevice)]
    [InlineData(SpecialFileKind.Socket)]
    public void Special_entries_round_trip_with_kind_and_device_number(SpecialFileKind kind)
    {
        var e = new MapEntry(MapEntryKind.Special, "/dev/x", 17)
        {
            Special = kind,
            Device = SpecialFiles.HasDevice(kind) ? new DeviceNumber(4095, 1_048_575) : null,
            Mode = SpecialFiles.TypeBits(kind) | 0x1A4,
            Uid = 3,
            Gid = 4,
            Modified = new MapTime(1_700_000_000, 7),
        };
        var back = MapMessages.FromMessage(Entry.Parser.ParseFrom(MapMessages.ToMessage(e).ToByteArray()), Block, Device, 0);
        Assert.Equal((MapEntryKind.Special, kind, e.Device), (back.Kind, back.Special!.Value, back.Device));
        Assert.Equal(EntryFingerprint.Compute(e), EntryFingerprint.Compute(back));
        if (e.Device is { } d)
            Assert.NotEqual(EntryFingerprint.Compute(e), EntryFingerprint.Compute(e with { Device = d with { Minor = d.Minor - 1 } }));
        Assert.NotEqual(EntryFingerprint.Compute(e), EntryFingerprint.Compute(e with { Special = (SpecialFileKind)(((int)kind + 1) % 4) }));
    }

    [Fact]
    public void Special_entries_that_contradict_their_kind_are_refused_with_the_entry_named()
    {
        var device = new Entry { Path = "/d", Kind = Entry.Types.Kind.BlockDevice };
        var e = Assert.Throws<CorruptStructureException>(() => MapMessages.FromMessage(device, Block, Device, 5));
        Assert.Contains("agent map entry 5", e.Message, StringComparison.Ordinal);
        var fifo = new Entry { Path = "/f", Kind = Entry.Types.Kind.Fifo, RdevMajor = 1, RdevMinor = 2 };
        Assert.Throws<CorruptStructureException>(() => MapMessages.FromMessage(fifo, Block, Device, 0));
        var sock = new Entry { Path = "/s", Kind = Entry.Types.Kind.Socket };
        sock.Streams.Add(new Rpc.V1.Stream { Name = "", SizeBytes = 0 });
        Assert.Throws<CorruptStructureException>(() => MapMessages.FromMessage(sock, Block, Device, 0));
        var file = new Entry { Path = "/r", Kind = Entry.Types.Kind.File, RdevMajor = 1, RdevMinor = 1 };
        Assert.Throws<CorruptStructureException>(() => MapMessages.FromMessage(file, Block, Device, 0));
    }

    /// <summary>Every change a file can undergo between map and copy changes its fingerprint.</summary>
    [Property(MaxTest = 200)]
    public bool Fingerprint_changes_with_every_field_that_affects_the_copy(int seed)
    {
        var e = Sample(seed);
        var s0 = e.Streams[0];
        var x0 = s0.Extents[0];
        MapEntry[] variants =
        [
            e with { Id = e.Id + 1 },                      // deleted and recreated (new inode)
            e with { Sequence = e.Sequence + 1 },          // inode reused, new generation / MFT sequence
            e with { SizeBytes = e.SizeBytes + 1 },
            e with { Modified = new MapTime(e.Modified!.Value.UnixSeconds, (e.Modified.Value.Nanoseconds + 1) % 1_000_000_000) },
            e with { Changed = new MapTime(e.Changed!.Value.UnixSeconds + 1, 0) },
            e with { Path = e.Path + "x" },
            e with { Links = [] , Mode = e.Mode + 1 },
            e with { Streams = [s0 with { Extents = [x0 with { Lba = x0.Lba + 1 }, .. s0.Extents.Skip(1)] }, e.Streams[1]] },          // relocated
            e with { Streams = [s0 with { Extents = [x0 with { Kind = x0.Kind == ExtentKind.Zero ? ExtentKind.Data : ExtentKind.Zero }, .. s0.Extents.Skip(1)] }, e.Streams[1]] },
            e with { Streams = [s0 with { InitializedBytes = s0.InitializedBytes - 1 }, e.Streams[1]] },
            e with { Streams = [s0, e.Streams[1] with { ResidentData = new byte[] { 9, 9, 9 } }] },
            e with { Xattrs = new Dictionary<string, ReadOnlyMemory<byte>> { ["user.k"] = new byte[] { 0 } } },
        ];
        var fp = EntryFingerprint.Compute(e);
        return EntryFingerprint.Compute(e with { }) == fp && variants.All(v => EntryFingerprint.Compute(v) != fp);
    }

    [Fact]
    public void Configuration_id_depends_on_the_snapshot_state_and_every_entry()
    {
        static string Id(string snapshot, params MapEntry[] entries)
        {
            var b = new ConfigurationBuilder(snapshot);
            b.AddVolume(new VolumeInfo("ext4", "d", 512, 4096, 0, 1 << 20, null, "u"));
            foreach (var e in entries) b.AddEntry(e);
            return b.Build().Id;
        }
        var a = Sample(1);
        var b = Sample(2);
        string id = Id("image=1", a, b);
        Assert.Equal(id, Id("image=1", a, b));
        Assert.NotEqual(id, Id("image=2", a, b));
        Assert.NotEqual(id, Id("image=1", a));
        Assert.NotEqual(id, Id("image=1", a, b with { Sequence = b.Sequence + 1 }));
        Assert.StartsWith("cfg1-", id, StringComparison.Ordinal);
    }
}
