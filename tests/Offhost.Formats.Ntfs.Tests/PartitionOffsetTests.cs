using Offhost.Core.Devices;
using Offhost.Core.Mapping;

namespace Offhost.Formats.Ntfs.Tests;

/// <summary>The volume inside a larger device: extents and error offsets count from the start of the device.</summary>
[Trait("Category", "Integration")]
public sealed class PartitionOffsetTests(DamagedVolumeFixture fx) : IClassFixture<DamagedVolumeFixture>
{
    const int PartitionOffset = 1024 * 1024;

    static (byte[] Device, SliceBlockSource Volume) Shifted(byte[] image, int blockBytes)
    {
        var device = new byte[PartitionOffset + image.Length + 4096];
        image.CopyTo(device, PartitionOffset);
        var source = new MemoryBlockSource(device, "shifted", blockBytes);
        return (device, new SliceBlockSource(source, PartitionOffset, image.Length));
    }

    [Theory]
    [InlineData(512)]
    [InlineData(4096)]
    public void Extents_address_the_whole_device(int blockBytes)
    {
        var (device, volume) = Shifted(fx.Image, blockBytes);
        var mapper = NtfsVolume.OpenMapper(volume, 1);
        Assert.Equal(PartitionOffset, mapper.Volume.PartitionOffsetBytes);
        Assert.Equal(blockBytes, mapper.Volume.BlockSizeBytes);
        Assert.Equal(1, mapper.Volume.Partition);
        var entries = mapper.Entries(CancellationToken.None).ToList();
        var whole = new MemoryBlockSource(device, "shifted", blockBytes);
        var plain = new MemoryBlockSource(fx.Image, "plain", 512);
        int nonResident = 0;
        foreach (var e in entries)
        {
            Assert.NotEqual(MapEntryKind.Unmappable, e.Kind);
            var clean = fx.Clean.Single(c => c.Id == e.Id);
            for (int i = 0; i < e.Streams.Count; i++)
            {
                if (!e.Streams[i].IsResident) nonResident++;
                Assert.Equal(MapVerifier.ReadStream(plain, clean.Streams[i], 512), MapVerifier.ReadStream(whole, e.Streams[i], blockBytes));
            }
        }
        Assert.True(nonResident >= 2);
    }

    [Fact]
    public void Errors_name_device_offsets()
    {
        ulong id = fx.Id("/victim.txt");
        long at = fx.RecordOffsets[id];
        var image = (byte[])fx.Image.Clone();
        image[at + 1022] ^= 0xFF;
        var (_, volume) = Shifted(image, 512);
        var e = NtfsVolume.OpenMapper(volume, null).Entries(CancellationToken.None).Single(x => x.Id == id);
        Assert.Equal(MapEntryKind.Unmappable, e.Kind);
        Assert.Contains($"byte offset {PartitionOffset + at + 1022}", e.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Probe_recognises_only_ntfs_boot_sectors()
    {
        Assert.True(NtfsVolume.Probe(fx.Image.AsSpan(0, 512)));
        Assert.False(NtfsVolume.Probe(new byte[512]));
        Assert.False(NtfsVolume.Probe(Offhost.Testing.TestData.Random(3, 512)));
        Assert.False(NtfsVolume.Probe(fx.Image.AsSpan(0, 100)));
        var bad = fx.Image.AsSpan(0, 512).ToArray();
        bad[0x0D] = 3; // sectors per cluster must be a power of two
        Assert.False(NtfsVolume.Probe(bad));
    }
}
