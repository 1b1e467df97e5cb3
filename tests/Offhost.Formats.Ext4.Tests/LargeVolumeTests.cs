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

    /// <summary>The walk reads inodes on a thread of its own and the entries are built on the enumerating thread; the
    /// volume has more entries than the queue between them holds, so the reader waits for the builder many times.
    /// The output must still be one deterministic depth-first order: every entry after its directory, and the same
    /// bytes of storage-map JSON on every run.</summary>
    [Fact]
    public void Walk_order_is_the_same_every_run_and_every_entry_follows_its_directory()
    {
        using var img = new Ext4TestImage(fx.Image);
        var first = img.Map();
        var second = img.Map();
        Assert.Equal(Json(first), Json(second));

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in first)
        {
            if (e.Path != "/")
            {
                string parent = e.Path[..e.Path.LastIndexOf('/')];
                Assert.True(seen.Contains(parent.Length == 0 ? "/" : parent), $"{e.Path} came before its directory");
            }
            if (e.Kind == MapEntryKind.Directory) seen.Add(e.Path);
        }
        // Depth first: once a directory's subtree is left, nothing under it comes again.
        var closed = new HashSet<string>(StringComparer.Ordinal);
        string previous = "/";
        foreach (var e in first.Skip(1))
        {
            for (string p = Parent(previous); p.Length > 1 && !IsUnder(e.Path, p); p = Parent(p)) closed.Add(p);
            Assert.False(closed.Contains(Parent(e.Path)), $"{e.Path} after its directory's subtree was left");
            previous = e.Path;
        }
        Assert.Equal(LargeVolumeFixture.Directories * LargeVolumeFixture.FilesPerDirectory, first.Count(e => e.Kind == MapEntryKind.File));

        static string Parent(string path) { int i = path.LastIndexOf('/'); return i <= 0 ? "/" : path[..i]; }
        static bool IsUnder(string path, string dir) => path.StartsWith(dir + "/", StringComparison.Ordinal);
    }

    [Fact]
    public void Stopping_early_or_cancelling_ends_the_walk_cleanly()
    {
        using var img = new Ext4TestImage(fx.Image);
        // A consumer that stops after a few entries: the reading thread is stopped and joined on dispose.
        var head = img.Open().Entries(TestContext.Current.CancellationToken).Take(10).ToList();
        Assert.Equal(10, head.Count);
        Assert.Equal(head.Select(e => e.Path), img.Map().Take(10).Select(e => e.Path));

        // Cancelled mid-walk (the reader is blocked on a full queue by then): OperationCanceledException, nothing else.
        using var cts = new CancellationTokenSource();
        int n = 0;
        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var _ in img.Open().Entries(cts.Token))
                if (++n == 20_000) cts.Cancel();
        });
        Assert.InRange(n, 20_000, 20_000 + 256 * 17);

        // Statistics are complete once the walk has ended.
        var mapper = img.Open();
        int entries = mapper.Entries(TestContext.Current.CancellationToken).Count();
        Assert.True(mapper.Statistics.RecordsScanned >= entries, $"{mapper.Statistics.RecordsScanned} records scanned for {entries} entries");
        Assert.True(mapper.Statistics.MetadataBytesRead > 0);
    }

    static string Json(IEnumerable<MapEntry> entries)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = StorageMapJson.CreateWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var e in entries) StorageMapJson.WriteEntry(w, e);
            w.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
