using FsCheck;
using FsCheck.Xunit;
using Offhost.Core.Mapping;

namespace Offhost.Formats.Ntfs.Tests;

/// <summary>Random damage to a real FILE record never escapes Entries(): the record maps, becomes Unmappable or drops out, and the rest maps as before.</summary>
[Trait("Category", "Integration")]
public sealed class MapperPropertyTests(DamagedVolumeFixture fx) : IClassFixture<DamagedVolumeFixture>
{
    [Property(MaxTest = 300)]
    public void Random_damage_to_a_record_never_breaks_the_map(int seed, byte fileChoice, bool keepFixups)
    {
        var random = new Random(seed);
        string[] paths = ["/victim.txt", "/fragmented.bin", "/two-runs.bin", "/loopA", "/loopA/loopB", "/loopA/loopB/inner.txt"];
        ulong id = fx.Id(paths[fileChoice % paths.Length]);
        int flips = 1 + random.Next(16);
        byte[] image;
        if (keepFixups)
        {
            image = fx.PatchRecord(id, rec =>
            {
                for (int i = 0; i < flips; i++) rec[0x30 + random.Next(rec.Length - 0x30)] = (byte)random.Next(256);
            });
        }
        else
        {
            image = (byte[])fx.Image.Clone();
            long at = fx.RecordOffsets[id];
            for (int i = 0; i < flips; i++) image[at + random.Next(fx.RecordBytes)] = (byte)random.Next(256);
        }
        var entries = DamagedVolumeFixture.MapAll(image);
        var bystander = entries.Single(e => e.Path == "/bystander.txt");
        Assert.Equal(MapEntryKind.File, bystander.Kind);
        foreach (var e in entries.Where(e => e.Kind == MapEntryKind.Unmappable))
            Assert.Matches(@"at byte offset -?\d+", e.Error);
    }

    /// <summary>Random bytes in the boot sector, the $MFT record or the $Volume record: OpenMapper either opens the
    /// volume (maybe through the backups) or throws CorruptStructureException, and Entries() never throws.</summary>
    [Property(MaxTest = 300)]
    public void Random_damage_to_volume_metadata_only_raises_corrupt_structure(int seed, byte target)
    {
        var random = new Random(seed);
        var image = (byte[])fx.Image.Clone();
        long mftRecord0 = fx.MftRecordOffset(0);
        long[] regions = [0, mftRecord0, fx.MftRecordOffset(3), image.Length - 512];
        long start = regions[target % regions.Length];
        int span = start == mftRecord0 || start == fx.MftRecordOffset(3) ? fx.RecordBytes : 512;
        for (int i = 0, n = 1 + random.Next(12); i < n; i++) image[start + random.Next(span)] = (byte)random.Next(256);
        if (target % 7 == 0) image.AsSpan(0, 512).Clear();
        IVolumeMapper mapper;
        try
        {
            mapper = NtfsVolume.OpenMapper(DamagedVolumeFixture.Slice(image), null);
        }
        catch (Offhost.Core.Errors.CorruptStructureException e)
        {
            Assert.Matches(@"at byte offset -?\d+", e.Message);
            return;
        }
        foreach (var e in mapper.Entries(CancellationToken.None))
            if (e.Kind == MapEntryKind.Unmappable) Assert.Matches(@"at byte offset -?\d+", e.Error);
    }
}
