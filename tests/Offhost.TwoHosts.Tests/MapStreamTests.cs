using FsCheck.Xunit;
using Google.Protobuf;
using Grpc.Core;
using Offhost.Agent.Configuration;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Rpc;
using Offhost.Rpc.V1;
using Offhost.Server.Remote;

namespace Offhost.TwoHosts.Tests;

/// <summary>The backup host's reader of map and remap streams, over arbitrary chunk sequences and over real ones.</summary>
public class MapStreamTests
{
    sealed class ListReader(IEnumerable<MapChunk> chunks) : IAsyncStreamReader<MapChunk>
    {
        readonly IEnumerator<MapChunk> _e = chunks.GetEnumerator();
        public MapChunk Current => _e.Current;
        public Task<bool> MoveNext(CancellationToken cancellationToken) => Task.FromResult(_e.MoveNext());
    }

    static DeviceIdentity Identity => new() { FileSystem = "ext4", FileSystemId = "u", DeviceSizeBytes = 1L << 30, FileSystemSizeBytes = 1L << 30 };

    static Rpc.V1.Volume Volume(int index) => MapMessages.ToMessage(new VolumeInfo("ext4", "d", 512, 4096, 0, 1L << 30, null, "u"), index, Identity);

    [Property(MaxTest = 1000)]
    public bool Arbitrary_chunk_sequences_read_as_a_map_or_raise_a_named_error(byte[][] messages)
    {
        var chunks = new List<MapChunk>();
        foreach (var m in messages ?? [])
        {
            try { chunks.Add(MapChunk.Parser.ParseFrom(m ?? [])); }
            catch (InvalidProtocolBufferException) { }
        }
        try
        {
            var map = RemoteMap.ReadAsync(new ListReader(chunks), CancellationToken.None).GetAwaiter().GetResult();
            return map.ConfigurationId.StartsWith("cfg1-", StringComparison.Ordinal);
        }
        catch (CorruptStructureException e) { return e.Message.Contains("agent", StringComparison.Ordinal); }
    }

    [Property(MaxTest = 300)]
    public bool Valid_streams_cut_anywhere_or_reordered_are_refused(int seed, byte cut)
    {
        var chunks = Stream(seed).ToList();
        int at = cut % chunks.Count;
        var truncated = chunks.Take(at).ToList();           // ended early: the agent died mid-stream
        var swapped = chunks.ToList();
        (swapped[0], swapped[^1]) = (swapped[^1], swapped[0]);
        return Refused(truncated) && Refused(swapped);
    }

    static bool Refused(List<MapChunk> chunks)
    {
        try
        {
            RemoteMap.ReadAsync(new ListReader(chunks), CancellationToken.None).GetAwaiter().GetResult();
            return false;
        }
        catch (CorruptStructureException) { return true; }
    }

    /// <summary>A stream as the agent sends it: two volumes, entries split over chunks, allocated ranges, the end.</summary>
    static IEnumerable<MapChunk> Stream(int seed)
    {
        var r = new Random(seed);
        for (int v = 1; v <= 2; v++)
        {
            var first = new MapChunk { Volume = v, VolumeRecord = Volume(v) };
            int n = r.Next(0, 5);
            for (int i = 0; i < n; i++) first.Entries.Add(MapMessages.ToMessage(Entry(v, i)));
            yield return first;
            var last = new MapChunk { Volume = v, VolumeEnd = true, HasAllocation = true };
            last.Entries.Add(MapMessages.ToMessage(Entry(v, 99)));
            last.Allocated.Add(new AllocatedRange { StartBytes = 0, LengthBytes = 4096 });
            yield return last;
        }
        yield return new MapChunk { EndOfMap = true, ConfigurationId = "cfg1-" + new string('0', 64) };
    }

    static MapEntry Entry(int volume, int i) => new(MapEntryKind.File, $"/v{volume}/f{i}", (ulong)i)
    {
        SizeBytes = 1000,
        Streams = [new MapStream("", 1000) { InitializedBytes = 1000, Extents = [MapExtent.Data(0, 1000, 100 + i * 2, 512)] }],
    };

    [Fact]
    public async Task A_valid_stream_reads_back_entry_for_entry_and_a_remap_replaces_adds_and_removes()
    {
        var map = await RemoteMap.ReadAsync(new ListReader(Stream(7)), CancellationToken.None);
        Assert.Equal(2, map.Volumes.Count);
        var before = map.Volumes[0].EntryList.ToList();
        Assert.Contains(before, e => e.Path == "/v1/f99");

        var changed = Entry(1, 99) with { SizeBytes = 1000, Sequence = 5 };
        var added = Entry(1, 500);
        var remap = new List<MapChunk>
        {
            new() { Volume = 1, VolumeRecord = Volume(1), Entries = { MapMessages.ToMessage(changed), MapMessages.ToMessage(added) } },
            new() { Volume = 1, VolumeEnd = true },
            new() { Volume = 2, VolumeRecord = Volume(2), VolumeEnd = true },
            new() { EndOfMap = true, ConfigurationId = "cfg1-" + new string('1', 64), RemovedPaths = { "2:/v2/f99" } },
        };
        var result = await map.ApplyRemapAsync(new ListReader(remap), CancellationToken.None);
        Assert.Equal("cfg1-" + new string('1', 64), map.ConfigurationId);
        Assert.Equal(2, result.Changed.Count);
        Assert.Equal(EntryFingerprint.Compute(changed), EntryFingerprint.Compute(map.Volumes[0].EntryList.Single(e => e.Path == "/v1/f99")));
        Assert.Contains(map.Volumes[0].EntryList, e => e.Path == "/v1/f500");
        Assert.DoesNotContain(map.Volumes[1].EntryList, e => e.Path == "/v2/f99");
        Assert.Equal(before.Count + 1, map.Volumes[0].EntryList.Count);

        // A remap that breaks off leaves the map as it was.
        var broken = remap.Take(2).ToList();
        await Assert.ThrowsAsync<CorruptStructureException>(() => map.ApplyRemapAsync(new ListReader(broken), CancellationToken.None));
        Assert.Equal("cfg1-" + new string('1', 64), map.ConfigurationId);
    }
}
