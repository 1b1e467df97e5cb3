using Offhost.Testing;

namespace Offhost.Formats.Ntfs.Tests;

/// <summary>
/// One NTFS volume with every feature the map must handle: resident and just-non-resident files, a large file, a file
/// fragmented enough to need an $ATTRIBUTE_LIST, sparse files, alternate data streams, hard links, symlinks, unicode and
/// 255-character names, compressed files, attribute flags and deep directories. Built once per test class.
/// </summary>
public sealed class FeatureVolumeFixture : IDisposable
{
    public static string Script => NtfsFeatureTree.Script;

    public FeatureVolumeFixture()
    {
        Builder = new NtfsVolumeBuilder("features", 192L * 1024 * 1024, label: "Features");
        try
        {
            Builder.Mount(compression: true);
            Builder.Bash(Script);
            Builder.Unmount();
            Map = MapVerifier.Map(Builder.ImagePath);
        }
        catch
        {
            Builder.Dispose();
            throw;
        }
    }

    public NtfsVolumeBuilder Builder { get; }
    public MapVerifier.Mapped Map { get; }

    public void Dispose() => Builder.Dispose();
}
