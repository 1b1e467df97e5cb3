using Offhost.Testing;

namespace Offhost.Formats.Ntfs.Tests;

[Trait("Category", "Integration")]
public sealed class FragmentedMftTests
{
    /// <summary>
    /// Fills the volume so the $MFT's reserved zone is the only free space, then alternates creating files (the MFT grows)
    /// with appending to a large file, so the $MFT must grow in separate pieces.
    /// </summary>
    [Fact]
    public void Mft_grown_in_pieces_is_read_through_its_runlist()
    {
        using var b = new NtfsVolumeBuilder("fragmft", 32L * 1024 * 1024);
        b.Mount();
        b.Bash("""
            head -c $(( $(df -B1 --output=avail . | tail -1) - 3 * 1024 * 1024 )) /dev/zero > filler
            for r in $(seq 1 30); do
              for i in $(seq 1 40); do printf '%s' "$r-$i" > "s$r-$i"; done
              head -c 32768 /dev/urandom >> big
            done
            """);
        b.Unmount();
        var map = MapVerifier.Map(b.ImagePath);
        Assert.True(map.MftRuns >= 2, $"$MFT has {map.MftRuns} run(s); the fixture did not fragment it");
        Assert.Contains(map.Entries, e => e.Path == "/s30-40");
        b.Mount(readOnly: true);
        try
        {
            MapVerifier.AssertMatchesMount(b.ImagePath, map, b.MountPoint, checkStreams: false);
        }
        finally
        {
            b.Unmount();
        }
    }
}
