using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Offhost.Core.Errors;

namespace Offhost.Catalog.Tests;

public class CatalogBlobTests
{
    static bool RejectsOrDecodes(Action decode)
    {
        try { decode(); return true; }
        catch (CorruptStructureException) { return true; }
    }

    [Property(MaxTest = 2000)]
    public bool Arbitrary_bytes_decode_or_raise_corrupt_structure(byte[] blob) =>
        RejectsOrDecodes(() => CatalogBlob.DecodeExtents(blob))
        && RejectsOrDecodes(() => CatalogBlob.DecodeStrings(blob))
        && RejectsOrDecodes(() => CatalogBlob.DecodeXattrs(blob));

    [Property(MaxTest = 2000)]
    public bool Arbitrary_bytes_after_the_version_byte_decode_or_raise(byte[] tail) =>
        Arbitrary_bytes_decode_or_raise_corrupt_structure([1, .. tail]);

    [Property(MaxTest = 500)]
    public bool Extents_round_trip(NonNegativeInt[] devices, long[] lbas, uint[] blocks, long[] offsets)
    {
        int n = new[] { devices.Length, lbas.Length, blocks.Length, offsets.Length }.Min();
        var list = Enumerable.Range(0, n)
            .Select(i => new SourceExtent(devices[i].Get, lbas[i] & long.MaxValue >> 1, blocks[i], offsets[i] & long.MaxValue))
            .ToList();
        return CatalogBlob.DecodeExtents(CatalogBlob.EncodeExtents(list)).SequenceEqual(list);
    }

    [Property(MaxTest = 500)]
    public bool Strings_round_trip(NonNull<string>[] values)
    {
        // Lone surrogates are not representable in UTF-8; paths from the mappers never hold them.
        var list = values.Select(v => v.Get).Where(s => !s.Any(char.IsSurrogate)).ToList();
        return CatalogBlob.DecodeStrings(CatalogBlob.EncodeStrings(list)).SequenceEqual(list);
    }

    [Property(MaxTest = 300)]
    public bool Xattrs_round_trip(NonNull<string>[] names, byte[][] values)
    {
        var map = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        for (int i = 0; i < Math.Min(names.Length, values.Length); i++)
            if (!names[i].Get.Any(char.IsSurrogate) && values[i] is not null) map.TryAdd(names[i].Get, values[i]);
        var back = CatalogBlob.DecodeXattrs(CatalogBlob.EncodeXattrs(map));
        return back.Count == map.Count && map.All(kv => back[kv.Key].AsSpan().SequenceEqual(kv.Value));
    }

    [Fact]
    public void Contiguous_extents_cost_a_few_bytes_each()
    {
        var list = Enumerable.Range(0, 1000).Select(i => new SourceExtent(0, 5_000_000_000L + 300L * i, 256, 256L * 4096 * i)).ToList();
        byte[] blob = CatalogBlob.EncodeExtents(list);
        Assert.True(blob.Length <= 1000 * 8 + 16, $"{blob.Length} bytes for 1000 extents");
    }

    [Fact]
    public void Huge_count_is_rejected_before_allocating()
    {
        byte[] blob = [1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F];
        var e = Assert.Throws<CorruptStructureException>(() => CatalogBlob.DecodeExtents(blob, "extent list of stream '' of file 7"));
        Assert.Equal(1, e.DeviceOffset);
        Assert.Contains("file 7", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Overlong_varint_is_rejected()
    {
        byte[] blob = [1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F];
        Assert.Throws<CorruptStructureException>(() => CatalogBlob.DecodeStrings(blob));
    }

    [Fact]
    public void Stream_checksum_is_xxhash64_seed_zero()
    {
        // Reference values of XXH64 (seed 0) from the xxHash specification's test vectors.
        Assert.Equal(0xEF46DB3751D8E999UL, CatalogStream.Checksum([]));
        byte[] data = Offhost.Testing.TestData.Random(3, 100_000);
        var incremental = new System.IO.Hashing.XxHash64();
        incremental.Append(data.AsSpan(0, 12_345));
        incremental.Append(data.AsSpan(12_345));
        Assert.Equal(CatalogStream.Checksum(data), incremental.GetCurrentHashAsUInt64());
    }
}
