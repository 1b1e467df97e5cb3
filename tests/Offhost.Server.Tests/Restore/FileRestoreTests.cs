using Offhost.Io.Tape;
using Offhost.Server.Restore;
using Offhost.Testing;

namespace Offhost.Server.Tests.Restore;

[Trait("Category", "Integration")]
public class FileRestoreTests
{
    const string Ext4Content = """
        head -c 100000 /dev/urandom > plain.bin
        truncate -s 20M sparse.img
        printf 'middle' | dd of=sparse.img bs=1 seek=10485760 conv=notrunc 2>/dev/null
        printf 'end' >> sparse.img
        mkdir -p sub/deeper
        echo nested > sub/deeper/leaf.txt
        echo a > sub/a.txt
        ln plain.bin sub/hard.bin
        ln -s ../plain.bin sub/sym
        ln -s /nonexistent/absolute symabs
        echo unicode > 'héllo wörld ☃ 日本語.txt'
        long=$(printf 'L%.0s' $(seq 1 255)); echo long > "$long"
        setfattr -n user.color -v blue sub/a.txt
        setfattr -n user.bin -v 0x00ff10 plain.bin
        chmod 0750 sub
        chmod 0600 plain.bin
        chown 1234:5678 sub/deeper/leaf.txt
        : > empty
        touch -d '2001-02-03 04:05:06.123456789' sub/deeper/leaf.txt
        touch -h -d '2002-02-03 04:05:06.5' sub/sym
        touch -d '2003-01-01 00:00:00.25' sub/deeper
        """;

    /// <summary>An ext4 image with rich content, backed up to a tape; the caller disposes the scratch directory.</summary>
    internal static async Task<(Scratch Scratch, string Image, string Tape, long ArchiveFile)> Ext4BackupAsync(string name, CancellationToken ct)
    {
        Requires.Root();
        Requires.Tool("mkfs.ext4");
        Requires.Tool("setfattr");
        Requires.Tool("python3");
        var scratch = new Scratch(name);
        try
        {
            string image = Ext4VolumeBuilder.Create(scratch["src.img"], 64L << 20);
            using (var rw = Ext4VolumeBuilder.Mount(image, scratch["build"], readOnly: false))
                Tool.Bash($"cd '{rw.Path}'\n{Ext4Content}");
            var result = await RestoreTestKit.BackupAsync(image, scratch["t.tap"], ct);
            return (scratch, image, scratch["t.tap"], result.ArchiveFileNumber);
        }
        catch
        {
            scratch.Dispose();
            throw;
        }
    }

    static async Task<FileRestoreResult> RestoreAsync(string tapePath, long archiveFile, string to, CancellationToken ct, params string[] patterns)
    {
        await using var tape = SimhTapeDevice.Open(tapePath, writable: false);
        return await FileRestoreJob.RunAsync(new FileRestoreRequest(tape, archiveFile, to) { Patterns = patterns }, null, ct);
    }

    [Fact]
    public async Task Ext4_restore_to_a_directory_matches_the_mounted_source_in_data_metadata_xattrs_links_and_times()
    {
        var ct = TestContext.Current.CancellationToken;
        var (scratch, image, tape, archive) = await Ext4BackupAsync("restore-ext4", ct);
        using var _ = scratch;
        var result = await RestoreAsync(tape, archive, scratch["out"], ct);
        Assert.True(result.Complete, string.Join("\n", result.Refused.Concat(result.Damaged).Concat(result.NotRestored)));
        Assert.True(result.HardLinks >= 1);
        Assert.Equal(2, result.Symlinks);

        using var ro = Ext4VolumeBuilder.Mount(image, scratch["ro"], readOnly: true);
        var expected = RestoreTestKit.Snapshot(ro.Path, "meta,atime");
        var actual = RestoreTestKit.Snapshot(scratch["out"], "meta,atime");
        Assert.Equal(expected, actual);
        Assert.DoesNotContain(actual, l => l.Contains(".offhost", StringComparison.Ordinal));

        // The sparse file came back with its holes: far fewer blocks allocated than its size.
        long allocatedBytes = long.Parse(Tool.Run("stat", "-c", "%b", scratch["out/sparse.img"]).Trim(), System.Globalization.CultureInfo.InvariantCulture) * 512;
        Assert.True(allocatedBytes < 1 << 20, $"sparse.img has {allocatedBytes} bytes allocated");
    }

    [Fact]
    public async Task Single_file_and_subtree_restores_write_only_what_was_selected()
    {
        var ct = TestContext.Current.CancellationToken;
        var (scratch, image, tape, archive) = await Ext4BackupAsync("restore-select", ct);
        using var _ = scratch;
        using var ro = Ext4VolumeBuilder.Mount(image, scratch["ro"], readOnly: true);

        var one = await RestoreAsync(tape, archive, scratch["one"], ct, "sub/deeper/leaf.txt");
        Assert.Empty(one.Refused.Concat(one.Damaged));
        Assert.Equal(1, one.Files);
        Assert.Equal(["sub", "sub/deeper", "sub/deeper/leaf.txt"],
            Directory.EnumerateFileSystemEntries(scratch["one"], "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(scratch["one"], p)).Order());
        Assert.Equal(File.ReadAllBytes(Path.Combine(ro.Path, "sub/deeper/leaf.txt")), File.ReadAllBytes(scratch["one/sub/deeper/leaf.txt"]));

        // A subtree: its hard link to a file outside the selection gets the data itself.
        var sub = await RestoreAsync(tape, archive, scratch["sub"], ct, "sub");
        Assert.Empty(sub.Refused.Concat(sub.Damaged));
        Assert.False(File.Exists(scratch["sub/plain.bin"]));
        Assert.Equal(File.ReadAllBytes(Path.Combine(ro.Path, "plain.bin")), File.ReadAllBytes(scratch["sub/sub/hard.bin"]));
        var expected = RestoreTestKit.Snapshot(Path.Combine(ro.Path, "sub"), "meta").Select(l => l.Replace("\"nlink\": 2", "\"nlink\": 1", StringComparison.Ordinal));
        Assert.Equal(expected, RestoreTestKit.Snapshot(scratch["sub/sub"], "meta"));

        var none = await RestoreAsync(tape, archive, scratch["none"], ct, "no/such/*");
        Assert.Equal(["no/such/*"], none.UnmatchedPatterns);
        Assert.Equal(0, none.Files);
    }
}
