using System.Diagnostics;
using Offhost.Core.Mapping;
using Offhost.Testing;

namespace Offhost.Formats.Ext4.Tests;

/// <summary>A volume of 50,000 files made by <c>mkfs.ext4 -d</c>, built once per run and checked file by file against a mount.</summary>
public sealed class LargeVolumeFixture : IDisposable
{
    public const int Directories = 100;
    public const int FilesPerDirectory = 500;

    public Scratch Scratch { get; } = new("ext4-large");
    public string Image { get; }

    public LargeVolumeFixture()
    {
        string src = Scratch["src"];
        for (int d = 0; d < Directories; d++)
        {
            string dir = Path.Combine(src, $"group{d / 10}", $"dir{d:D3}");
            Directory.CreateDirectory(dir);
            for (int f = 0; f < FilesPerDirectory; f++)
            {
                int n = d * FilesPerDirectory + f;
                File.WriteAllBytes(Path.Combine(dir, $"file-{n:D6}.dat"), TestData.Random(n, n % 5 == 0 ? 5000 + n % 3000 : n % 300));
            }
        }
        Image = Ext4VolumeBuilder.Create(Scratch["large.img"], 1L << 30, "ext4", src, "-b", "4096", "-I", "256", "-N", "60000");
        Directory.Delete(src, recursive: true);
    }

    public void Dispose() => Scratch.Dispose();
}

[Trait("Category", "Integration")]
public sealed class LargeVolumeTests(LargeVolumeFixture fx) : IClassFixture<LargeVolumeFixture>
{
    [Fact]
    public void Fifty_thousand_files_match_the_mount()
    {
        Requires.Root();
        using var img = new Ext4TestImage(fx.Image);
        var sw = Stopwatch.StartNew();
        var mapper = img.Open();
        int files = 0;
        foreach (var e in mapper.Entries(TestContext.Current.CancellationToken)) if (e.Kind == MapEntryKind.File) files++;
        sw.Stop();
        Assert.Equal(LargeVolumeFixture.Directories * LargeVolumeFixture.FilesPerDirectory, files);
        TestContext.Current.SendDiagnosticMessage($"mapped {mapper.Statistics.RecordsScanned} inodes in {sw.Elapsed.TotalSeconds:F2} s");

        using var m = Ext4VolumeBuilder.Mount(fx.Image, fx.Scratch[$"ro-{Guid.NewGuid():N}"], readOnly: true);
        var entries = MapVerifier.Verify(img.Open(), img.Device, new MountTruth(m.Path, withXattrs: false));
        Assert.True(entries.Count >= 50_000);
    }
}
