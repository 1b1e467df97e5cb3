using System.Formats.Tar;
using System.IO.Hashing;
using System.Text;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Index;
using Offhost.Formats.Tape.Label;
using Offhost.Formats.Tape.Pax;
using Offhost.Io.Tape;
using Offhost.Testing;

namespace Offhost.Formats.Tape.Tests;

/// <summary>
/// A backup image built with the encoders from real files, written to a SIMH tape, then restored by GNU tar
/// through <c>offhost tape cat</c> and read by System.Formats.Tar: every file must come back byte for byte.
/// </summary>
public sealed class PaxBackupImageTests : IDisposable
{
    readonly Scratch scratch = new("pax-image");
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => scratch.Dispose();

    static readonly string LongDir = string.Join('/', Enumerable.Range(0, 5).Select(i => new string((char)('a' + i), 60)));
    const string UnicodeName = "Grüße 日本語 ✓ €.txt";
    const long SparseSize = 5L << 20;
    static readonly SparseSegment[] SparseData = [new(1L << 20, 100_001), new(3L << 20, 4096)];
    static readonly MapTime NanoTime = new(1_600_000_000, 123_456_789);

    /// <summary>The source tree, and the members describing it. Paths relative to <c>src/</c>.</summary>
    (BackupImageBuilder Builder, List<string> Files) MakeSource(bool newlineInXattr)
    {
        string src = scratch["src"];
        Directory.CreateDirectory(Path.Combine(src, "data", LongDir));
        var files = new List<string>();
        var b = new BackupImageBuilder();
        void Put(string rel, byte[] content, Func<PaxEntry, PaxEntry>? tweak = null)
        {
            string full = Path.Combine(src, rel);
            File.WriteAllBytes(full, content);
            files.Add(rel);
            var e = new PaxEntry(rel, PaxEntryKind.File) { SizeBytes = content.Length, Mode = 0x1A4, Modified = new MapTime(1_700_000_000, 0) };
            b.Add(tweak is null ? e : tweak(e), full);
        }
        b.Add(new PaxEntry("data", PaxEntryKind.Directory) { Mode = 0x1ED, Modified = new MapTime(1_700_000_000, 0) }, null);
        Put("data/regular.bin", TestData.Random(1, 100_000), e => e with { Modified = NanoTime, Mode = 0x180, Uid = 1234, Gid = 5678 });
        Put("data/empty", []);
        Put("data/exact512", TestData.Random(2, 512));
        Put("data/over513", TestData.Random(3, 513));
        Put($"data/{LongDir}/leaf-of-a-long-path.txt", TestData.Random(4, 3000));
        Put($"data/{UnicodeName}", Encoding.UTF8.GetBytes("unicode name ✓"));
        Put("data/xattr.txt", Encoding.ASCII.GetBytes("has xattrs"), e => e with
        {
            Xattrs = new Dictionary<string, ReadOnlyMemory<byte>>
            {
                ["user.comment"] = Encoding.ASCII.GetBytes("hello"),
                ["user.binary"] = newlineInXattr ? new byte[] { 0, 1, 2, 0xFF, (byte)'\n', (byte)'=' } : new byte[] { 0, 1, 2, 0xFF, (byte)'=' },
            },
        });
        // An NTFS alternate data stream as its own member, named FILE:STREAM (ntfs-3g streams_interface=windows form).
        Put(PaxNaming.AlternateStreamMemberName("data/regular.bin", "Zone.Identifier"), Encoding.ASCII.GetBytes("[ZoneTransfer]\r\nZoneId=3\r\n"));

        // Sparse: hole at the start, data (odd length), hole in the middle, data, hole at the end.
        string sparse = Path.Combine(src, "data/sparse.img");
        using (var fs = new FileStream(sparse, FileMode.Create))
        {
            fs.SetLength(SparseSize);
            foreach (var s in SparseData)
            {
                fs.Position = s.OffsetBytes;
                fs.Write(TestData.Random((int)s.OffsetBytes, (int)s.LengthBytes));
            }
        }
        files.Add("data/sparse.img");
        b.Add(new PaxEntry("data/sparse.img", PaxEntryKind.File) { SizeBytes = SparseSize, Mode = 0x1A4, SparseMap = SparseData }, sparse);

        File.CreateSymbolicLink(Path.Combine(src, "data/link"), "regular.bin");
        b.Add(new PaxEntry("data/link", PaxEntryKind.Symlink) { LinkTarget = "regular.bin", Mode = 0x1FF }, null);
        b.Add(new PaxEntry("data/hard", PaxEntryKind.HardLink) { LinkTarget = "data/regular.bin", Mode = 0x180 }, null);
        // Link targets that need pax linkpath records: a unicode symlink target, a hard link to a long path.
        File.CreateSymbolicLink(Path.Combine(src, "data/ulink"), UnicodeName);
        b.Add(new PaxEntry("data/ulink", PaxEntryKind.Symlink) { LinkTarget = UnicodeName, Mode = 0x1FF }, null);
        b.Add(new PaxEntry($"data/{LongDir}/hard-to-long", PaxEntryKind.HardLink) { LinkTarget = $"data/{LongDir}/leaf-of-a-long-path.txt", Mode = 0x1A4 }, null);
        return (b, files);
    }

    async Task<(string Tape, byte[] Archive, List<TapeIndexEntry> Index, List<string> Files)> WriteTape(bool newlineInXattr = true)
    {
        var (builder, files) = MakeSource(newlineInXattr);
        var (archive, index) = builder.Build();
        string tape = scratch["backup.tap"];
        await using var device = SimhTapeDevice.Create(tape, new VolumeLabel("PAX001", 64L << 20, 1L << 20, new MapTime(1_700_000_000, 0), Guid.NewGuid()));
        await BackupImageBuilder.WriteTapeFileAsync(device, archive, 256 * 1024, Ct);
        var header = new TapeIndexHeader(Guid.NewGuid(), "test source tree", new MapTime(1_700_000_000, 0), device.Position.FileNumber - 1);
        await BackupImageBuilder.WriteTapeFileAsync(device, TapeIndexEncoder.Encode(header, index), 64 * 1024, Ct);
        await device.FlushAsync(Ct);
        return (tape, archive, index, files);
    }

    static string Offhost => Path.Combine(AppContext.BaseDirectory, "offhost.dll");

    static string Q(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    [Fact]
    public async Task GNU_tar_restores_every_file_byte_for_byte_from_the_tape()
    {
        Requires.Tool("tar");
        var (tape, _, _, files) = await WriteTape();
        string output = scratch["out"];
        Directory.CreateDirectory(output);
        string stderr = Tool.Bash($"dotnet {Q(Offhost)} tape cat {Q(tape)} --file 1 | tar -xf - -C {Q(output)} 2>&1");
        Assert.Equal("", stderr.Trim());

        foreach (var rel in files)
            Assert.True(File.ReadAllBytes(Path.Combine(scratch["src"], rel)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(output, rel))), rel);

        Assert.Equal("regular.bin", new FileInfo(Path.Combine(output, "data/link")).LinkTarget);
        Assert.Equal(UnicodeName, new FileInfo(Path.Combine(output, "data/ulink")).LinkTarget);
        Assert.Equal(File.ReadAllBytes(Path.Combine(output, $"data/{LongDir}/leaf-of-a-long-path.txt")),
            File.ReadAllBytes(Path.Combine(output, $"data/{LongDir}/hard-to-long")));
        string inodes = Tool.Run("stat", "-c", "%i", Path.Combine(output, "data/regular.bin"), Path.Combine(output, "data/hard"));
        var pair = inodes.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(pair[0], pair[1]);
        // Nanosecond mtime, mode and owner from the pax/ustar headers.
        Assert.Equal("1600000000.123456789 600 1234 5678", Tool.Run("stat", "-c", "%.9Y %a %u %g", Path.Combine(output, "data/regular.bin")).Trim());
        // Holes are recreated: far fewer blocks allocated than the size.
        long allocated = long.Parse(Tool.Run("stat", "-c", "%b", Path.Combine(output, "data/sparse.img")).Trim(), System.Globalization.CultureInfo.InvariantCulture) * 512;
        Assert.True(allocated < SparseSize / 4, $"sparse.img allocates {allocated} bytes of {SparseSize}");
        Assert.Equal(SparseSize, new FileInfo(Path.Combine(output, "data/sparse.img")).Length);
    }

    [Fact]
    public async Task GNU_tar_restores_xattrs_with_the_xattrs_option()
    {
        Requires.Tool("tar");
        Requires.Tool("getfattr");
        var (tape, _, _, _) = await WriteTape();
        string output = scratch["outx"];
        Directory.CreateDirectory(output);
        Tool.Bash($"dotnet {Q(Offhost)} tape cat {Q(tape)} --file 1 | tar --xattrs -xf - -C {Q(output)}");
        string dump = Tool.Run("getfattr", "-d", "-e", "hex", Path.Combine(output, "data/xattr.txt"));
        Assert.Contains("user.comment=0x68656c6c6f", dump, StringComparison.Ordinal);
        Assert.Contains("user.binary=0x000102ff0a3d", dump, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stale_bytes_in_block_padding_are_ignored_by_GNU_tar()
    {
        Requires.Tool("tar");
        var (_, archive, _, _) = await WriteTape();
        // The fixture really has stale (non-zero) padding after over513's last byte.
        int at = archive.AsSpan().IndexOf(TestData.Random(3, 513));
        Assert.True(at > 0);
        Assert.Equal(BackupImageBuilder.StaleByte, archive[at + 513]);
        // And tar's own listing agrees on every member (no "skipping to next header" or checksum complaints).
        string file = scratch["archive.tar"];
        await File.WriteAllBytesAsync(file, archive, Ct);
        var r = Tool.TryRun("tar", ["-tvf", file]);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        Assert.Contains($"data/{LongDir}/leaf-of-a-long-path.txt", r.Stdout, StringComparison.Ordinal);
        Assert.Contains(UnicodeName, r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task System_Formats_Tar_reads_the_archive()
    {
        // System.Formats.Tar rejects pax records whose value contains a newline (valid POSIX, and what GNU tar
        // writes for such xattr values), so this archive's binary xattr has none.
        var (tape, _, _, files) = await WriteTape(newlineInXattr: false);
        await using var device = SimhTapeDevice.Open(tape, writable: false);
        await device.LocateAsync(new Core.Devices.TapePosition(1, 0), Ct);
        byte[] archive = await BackupImageBuilder.ReadTapeFileAsync(device, Ct);
        using var reader = new TarReader(new MemoryStream(archive));
        var seen = new Dictionary<string, TarEntry>();
        while (reader.GetNextEntry(copyData: true) is { } e) seen[e.Name] = e;
        foreach (var rel in files.Where(f => f != "data/sparse.img"))
        {
            Assert.True(seen.TryGetValue(rel, out var e), rel);
            var data = new MemoryStream();
            e!.DataStream?.CopyTo(data);
            Assert.Equal(File.ReadAllBytes(Path.Combine(scratch["src"], rel)), data.ToArray());
        }
        var regular = (PaxTarEntry)seen["data/regular.bin"];
        Assert.Equal(NanoTime.ToDateTimeOffset(), regular.ModificationTime);
        Assert.Equal(1234, regular.Uid);
        Assert.Equal(TarEntryType.SymbolicLink, seen["data/link"].EntryType);
        Assert.Equal("regular.bin", seen["data/link"].LinkName);
        Assert.Equal(TarEntryType.HardLink, seen["data/hard"].EntryType);
        Assert.Equal(TarEntryType.Directory, seen["data/"].EntryType);
        var sparse = (PaxTarEntry)seen.Values.Single(e => e.Name.Contains("GNUSparseFile", StringComparison.Ordinal));
        Assert.Equal("data/sparse.img", sparse.ExtendedAttributes["GNU.sparse.name"]);
    }

    [Fact]
    public async Task Index_on_tape_describes_every_member_and_its_checksum()
    {
        var (tape, archive, index, files) = await WriteTape();
        string indexFile = scratch["index.bin"];
        Tool.Bash($"dotnet {Q(Offhost)} tape cat {Q(tape)} --file 2 > {Q(indexFile)}");
        var decoded = TapeIndexDecoder.Decode(await File.ReadAllBytesAsync(indexFile, Ct));
        Assert.Equal(1, decoded.Header.ArchiveFileNumber);
        Assert.Equal(index.Count, decoded.Entries.Count);
        foreach (var e in decoded.Entries.Where(e => e.Kind == PaxEntryKind.File && !e.Streams[0].Sparse))
        {
            var s = e.Streams[0];
            // The index alone finds the bytes in the archive, and its checksum matches them.
            byte[] data = archive.AsSpan((int)s.DataOffsetBytes, (int)s.SizeBytes).ToArray();
            Assert.Equal(s.XxHash64, XxHash64.HashToUInt64(data));
            Assert.Equal(File.ReadAllBytes(Path.Combine(scratch["src"], e.Path)), data);
        }
        Assert.Contains(decoded.Entries, e => e.Path == $"data/{UnicodeName}");
        Assert.Equal(files.Count, decoded.Entries.Count(e => e.Kind == PaxEntryKind.File));
    }

    [Fact]
    public async Task Tape_ls_lists_label_archive_and_index()
    {
        var (tape, archive, _, _) = await WriteTape();
        string json = Tool.Run("dotnet", Offhost, "tape", "ls", tape, "--json");
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        Assert.Equal("PAX001", doc.RootElement.GetProperty("label").GetString());
        Assert.Equal(64L << 20, doc.RootElement.GetProperty("capacity").GetInt64());
        var f = doc.RootElement.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(3, f.Count);
        Assert.Equal(archive.Length, f[1].GetProperty("bytes").GetInt64());
        Assert.Equal((archive.Length + 256 * 1024 - 1) / (256 * 1024), f[1].GetProperty("records").GetInt64());
        Assert.Equal("pax archive", f[1].GetProperty("content").GetString());
        Assert.StartsWith("index of backup", f[2].GetProperty("content").GetString(), StringComparison.Ordinal);
        string text = Tool.Run("dotnet", Offhost, "tape", "ls", tape);
        Assert.Contains("PAX001", text, StringComparison.Ordinal);
        Assert.Contains("test source tree", text, StringComparison.Ordinal);
    }
}
