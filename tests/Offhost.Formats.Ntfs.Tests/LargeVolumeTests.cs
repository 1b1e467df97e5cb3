using Offhost.Core.Mapping;

namespace Offhost.Formats.Ntfs.Tests;

[Trait("Category", "Integration")]
[Collection(LargeVolumeCollection.Name)]
public sealed class LargeVolumeTests(LargeVolumeFixture fx)
{
    [Fact]
    public void Fifty_thousand_files_in_deep_directories_match_ntfs3g()
    {
        int files = fx.Map.Entries.Count(e => e.Kind == MapEntryKind.File);
        Assert.True(files >= 50_000, $"only {files} files");
        Assert.True(fx.Map.Statistics.RecordsScanned >= 50_000);
        fx.Builder.Mount(readOnly: true);
        try
        {
            int compared = MapVerifier.AssertMatchesMount(fx.Builder.ImagePath, fx.Map, fx.Builder.MountPoint, checkStreams: false);
            Assert.True(compared >= 50_000);
        }
        finally
        {
            fx.Builder.Unmount();
        }
    }

    [Fact]
    public void Paths_come_from_parent_references()
    {
        var e = fx.Map.Entries.Single(x => x.Path == "/t7/u3/v/w/x/y/file-321");
        Assert.Equal("t7/u3/v/w/x/y/321"u8.ToArray(), e.Streams.Single().ResidentData!.Value.ToArray());
    }
}
