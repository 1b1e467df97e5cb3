using Offhost.Testing;

namespace Offhost.Formats.Ntfs.Tests;

/// <summary>
/// A volume of just over 50,000 small files in directories six levels deep, built once per test run and shared by the
/// tests in <see cref="LargeVolumeCollection"/>. Files are written with shell builtins to keep creation fast.
/// </summary>
public sealed class LargeVolumeFixture : IDisposable
{
    public const int LeafDirectories = 100;
    public const int FilesPerLeaf = 500;

    const string Script = """
        for a in 0 1 2 3 4 5 6 7 8 9; do
          for b in 0 1 2 3 4 5 6 7 8 9; do
            leaf="t$a/u$b/v/w/x/y"
            mkdir -p "$leaf"
            printf 'level %s' "$a$b" > "t$a/u$b/note"
            for i in $(seq 1 500); do printf '%s/%s' "$leaf" "$i" > "$leaf/file-$i"; done
          done
        done
        """;

    public LargeVolumeFixture()
    {
        Builder = new NtfsVolumeBuilder("large", 256L * 1024 * 1024, label: "Large");
        try
        {
            Builder.Mount();
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

[CollectionDefinition(Name)]
public sealed class LargeVolumeCollection : ICollectionFixture<LargeVolumeFixture>
{
    public const string Name = "NTFS large volume";
}
