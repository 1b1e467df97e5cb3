using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Index;
using Offhost.Formats.Tape.Pax;

namespace Offhost.Formats.Tape.Tests;

public class TapeIndexTests
{
    static readonly TapeIndexHeader Header = new(Guid.Parse("11111111-2222-3333-4444-555555555555"), "host1:/dev/sdb1 ext4 snapshot 7",
        new MapTime(1_700_000_000, 5), 1);

    static TapeIndexEntry Entry(int i) => new($"dir/file-{i}-äöü.bin", (PaxEntryKind)(i % 8), i * 1024L)
    {
        Device = PaxEntryKinds.HasDevice((PaxEntryKind)(i % 8)) ? new DeviceNumber((uint)i * 0x10001u, uint.MaxValue - (uint)i) : null,
        SizeBytes = i % 4 == 0 ? i * 1000L : 0,
        Mode = 0x1A4,
        Uid = (uint)i,
        Gid = 7,
        Modified = i % 3 == 0 ? null : new MapTime(i, i),
        LinkTarget = i % 4 is 2 or 3 ? "target" : null,
        Streams = i % 4 == 0
            ? [new TapeIndexStream("", i * 1000L, i * 1024L, i * 1024L + 512, (ulong)i * 0x9E3779B97F4A7C15) { Sparse = i % 8 == 0 },
               new TapeIndexStream("Zone.Identifier", 26, i * 1024L, i * 1024L, 42) { Storage = TapeStreamStorage.ExtendedHeader }]
            : [],
    };

    static void AssertSame(TapeIndexEntry a, TapeIndexEntry b)
    {
        Assert.Equal(a with { Streams = [] }, b with { Streams = [] });
        Assert.Equal(a.Streams, b.Streams);
    }

    [Fact]
    public void Index_round_trips()
    {
        var entries = Enumerable.Range(0, 50).Select(Entry).ToList();
        byte[] bytes = TapeIndexEncoder.Encode(Header, entries);
        var decoded = TapeIndexDecoder.Decode(bytes);
        Assert.Equal(Header, decoded.Header);
        Assert.Equal(entries.Count, decoded.Entries.Count);
        for (int i = 0; i < entries.Count; i++) AssertSame(entries[i], decoded.Entries[i]);
    }

    [Property(MaxTest = 300)]
    public Property Generated_entries_round_trip() =>
        Prop.ForAll(ArbMap.Default.ArbFor<NonNull<string>[]>(), ArbMap.Default.ArbFor<long[]>(), (names, numbers) =>
        {
            var entries = names.Select((n, i) => new TapeIndexEntry(n.Get, PaxEntryKind.File, Math.Abs(numbers.ElementAtOrDefault(i) % long.MaxValue))
            {
                SizeBytes = i,
                Streams = [new TapeIndexStream(n.Get, i, i, i, (ulong)numbers.ElementAtOrDefault(i))],
            }).ToList();
            var decoded = TapeIndexDecoder.Decode(TapeIndexEncoder.Encode(Header, entries));
            return decoded.Entries.Count == entries.Count
                && decoded.Entries.Zip(entries).All(p => p.First with { Streams = [] } == p.Second with { Streams = [] } && p.First.Streams.SequenceEqual(p.Second.Streams));
        });

    [Property(MaxTest = 10_000)]
    public void Arbitrary_bytes_decode_or_raise_a_corrupt_structure_error(byte[] tail, bool withMagic)
    {
        byte[] bytes = withMagic ? [.. TapeIndexFormat.Magic, .. tail] : tail;
        try { TapeIndexDecoder.Decode(bytes); }
        catch (CorruptStructureException e) { Assert.InRange(e.DeviceOffset, 0, bytes.Length); }
    }

    [Property(MaxTest = 3_000)]
    public void Any_single_byte_change_is_detected(int position, byte xor)
    {
        byte[] bytes = TapeIndexEncoder.Encode(Header, Enumerable.Range(0, 5).Select(Entry));
        if (xor == 0) xor = 0x40;
        bytes[(int)((uint)position % (uint)bytes.Length)] ^= xor;
        Assert.Throws<CorruptStructureException>(() => TapeIndexDecoder.Decode(bytes));
    }

    [Fact]
    public void Truncated_index_names_the_offset()
    {
        byte[] bytes = TapeIndexEncoder.Encode(Header, Enumerable.Range(0, 5).Select(Entry));
        var e = Assert.Throws<CorruptStructureException>(() => TapeIndexDecoder.Decode(bytes.AsSpan(0, bytes.Length - 3)));
        Assert.Equal(bytes.Length - TapeIndexFormat.EndRecordBytes, e.DeviceOffset);
    }

    [Fact]
    public void Huge_stream_count_is_refused_before_allocating()
    {
        // One entry record whose stream count claims 65535 streams but carries none.
        var header = TapeIndexEncoder.Encode(Header, []);
        byte[] entry = TapeIndexEncoder.Encode(Header, [new TapeIndexEntry("a", PaxEntryKind.File, 0)]);
        int entryAt = header.Length - TapeIndexFormat.EndRecordBytes;
        int countAt = entry.Length - TapeIndexFormat.EndRecordBytes - 2;
        entry[countAt] = 0xFF;
        entry[countAt + 1] = 0xFF;
        var e = Assert.Throws<CorruptStructureException>(() => TapeIndexDecoder.Decode(entry));
        Assert.Contains("streams do not fit", e.Message, StringComparison.Ordinal);
        Assert.True(e.DeviceOffset > entryAt);
    }
}

public class TapeIndexReaderTests
{
    static List<TapeIndexEntry> ReadChunked(byte[] bytes, int chunk, out TapeIndexHeader? header)
    {
        var reader = new TapeIndexReader();
        var result = new List<TapeIndexEntry>();
        var buffer = new List<byte>();
        int fed = 0;
        while (true)
        {
            var span = buffer.ToArray().AsSpan();
            if (reader.TryRead(span, out int consumed, out var entry))
            {
                if (entry is not null) result.Add(entry);
                buffer.RemoveRange(0, consumed);
                if (reader.Completed && buffer.Count == 0 && fed == bytes.Length) break;
                continue;
            }
            if (fed == bytes.Length) { reader.CheckComplete(); break; }
            int n = Math.Min(chunk, bytes.Length - fed);
            buffer.AddRange(bytes.AsSpan(fed, n).ToArray());
            fed += n;
        }
        header = reader.Header;
        return result;
    }

    [Property(MaxTest = 100)]
    public void Streaming_reader_agrees_with_the_whole_index_decoder(PositiveInt chunk, byte entryCount)
    {
        var header = new TapeIndexHeader(Guid.NewGuid(), "s", new MapTime(1, 1), 1);
        var entries = Enumerable.Range(0, entryCount % 40).Select(i => new TapeIndexEntry($"f{i}", PaxEntryKind.File, i)
        {
            SizeBytes = i,
            Streams = [new TapeIndexStream("", i, i, i, (ulong)i)],
        }).ToList();
        byte[] bytes = TapeIndexEncoder.Encode(header, entries);
        var streamed = ReadChunked(bytes, chunk.Get % 300 + 1, out var h);
        var whole = TapeIndexDecoder.Decode(bytes);
        Assert.Equal(whole.Header, h);
        Assert.Equal(whole.Entries.Select(e => e.Path), streamed.Select(e => e.Path));
    }

    [Property(MaxTest = 3_000)]
    public void Streaming_reader_rejects_damage_with_a_corrupt_structure_error(int position, byte xor)
    {
        byte[] bytes = TapeIndexEncoder.Encode(new TapeIndexHeader(Guid.Empty, "s", new MapTime(0, 0), 1),
            Enumerable.Range(0, 4).Select(i => new TapeIndexEntry($"f{i}", PaxEntryKind.File, i)));
        if (xor == 0) xor = 0x10;
        bytes[(int)((uint)position % (uint)bytes.Length)] ^= xor;
        Assert.Throws<CorruptStructureException>(() => ReadChunked(bytes, 7, out _));
    }
}
