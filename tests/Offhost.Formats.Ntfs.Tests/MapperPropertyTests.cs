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
}
