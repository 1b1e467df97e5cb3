using System.Globalization;
using System.Text.RegularExpressions;
using FsCheck.Xunit;
using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Testing;

namespace Offhost.Formats.Ext4.Tests;

/// <summary>Small real images made by mke2fs, mutated at random in their metadata: opening may refuse with
/// <see cref="CorruptStructureException"/>, but mapping never throws and never hangs.</summary>
public sealed class MutationPropertyTests(MutationPropertyTests.Images images) : IClassFixture<MutationPropertyTests.Images>
{
    public sealed class Images : IDisposable
    {
        readonly Scratch scratch = new("ext4-mutation");
        public List<(byte[] Bytes, long TableStart, long TableEnd)> All { get; } = [];

        public Images()
        {
            string src = scratch["src"];
            Directory.CreateDirectory(src);
            Tool.Bash($"""
                cd '{src}'
                mkdir -p a/b/c d
                for i in $(seq 1 30); do head -c $((i * 97)) /dev/urandom > a/f$i; done
                head -c 300000 /dev/urandom > big
                truncate -s 3M sparse && printf x | dd of=sparse bs=1 seek=2000000 conv=notrunc status=none
                ln -s f1 a/link && ln -s "$(printf 'p%.0s' $(seq 1 100))" a/slow && ln a/f2 d/hard
                setfattr -n user.x -v 0x0102 a/f3
                for i in $(seq 1 5); do head -c 30 /dev/urandom > d/tiny$i; done
                """);
            foreach (var (fs, opts) in new[]
            {
                ("ext4", new[] { "-b", "1024", "-N", "64", "-I", "256", "-O", "^metadata_csum" }),
                ("ext4", new[] { "-b", "1024", "-N", "64", "-I", "256", "-O", "inline_data,metadata_csum" }),
                ("ext2", new[] { "-b", "1024", "-N", "64" }),
            })
            {
                string img = Ext4VolumeBuilder.Create(scratch[$"{All.Count}.img"], 6L << 20, fs, src, opts);
                var m = Regex.Match(Tool.RunChecked("dumpe2fs", [img], stdin: null), @"Inode table at (\d+)-(\d+)");
                All.Add((File.ReadAllBytes(img), long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * 1024,
                    (long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) + 1) * 1024));
            }
        }

        public void Dispose() => scratch.Dispose();
    }

    [Property(MaxTest = 600)]
    public void Mutated_images_map_without_unexpected_exceptions(int seed)
    {
        var rnd = new Random(seed);
        var (original, tableStart, tableEnd) = images.All[(seed & int.MaxValue) % images.All.Count];
        var bytes = (byte[])original.Clone();
        int mutations = rnd.Next(1, 12);
        for (int i = 0; i < mutations; i++)
        {
            long at = rnd.Next(3) == 0 ? rnd.NextInt64(1024, 400 * 1024) : rnd.NextInt64(tableStart, tableEnd);
            bytes[at] = rnd.Next(4) == 0 ? (byte)0xFF : (byte)rnd.Next(256);
        }
        var volume = new SliceBlockSource(new MemoryBlockSource(bytes), 0, bytes.Length);
        Core.Mapping.IVolumeMapper mapper;
        try { mapper = Ext4Volume.OpenMapper(volume, null); }
        catch (CorruptStructureException) { return; }
        int n = 0;
        foreach (var e in mapper.Entries(TestContext.Current.CancellationToken))
        {
            Assert.True(++n < 100_000, "mapping does not end");
            if (e.Kind == Core.Mapping.MapEntryKind.Unmappable) Assert.Contains(" at byte offset ", e.Error, StringComparison.Ordinal);
        }
    }
}
