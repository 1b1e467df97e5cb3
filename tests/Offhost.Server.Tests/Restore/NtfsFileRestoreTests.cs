using Offhost.Io.Tape;
using Offhost.Server.Restore;
using Offhost.Testing;

namespace Offhost.Server.Tests.Restore;

[Trait("Category", "Integration")]
public class NtfsFileRestoreTests
{
    const string Content = """
        printf 'main data' > ads.txt
        setfattr -n user.Zone.Identifier -v '[ZoneTransfer] ZoneId=3' ads.txt
        python3 -c "import os; os.setxattr('ads.txt', 'user.mid', os.urandom(30000))"
        mkdir adsdir
        setfattr -n user.ondir -v 'a stream on a directory' adsdir
        echo linked > hl1
        mkdir other
        ln hl1 other/hl2
        ln -s hl1 sym-rel
        echo unicode > 'héllo wörld ☃ 日本語.txt'
        mkdir 'ディレクトリ'
        echo nested > 'ディレクトリ/файл'
        long=$(printf 'L%.0s' $(seq 1 255)); echo long > "$long"
        mkdir comp
        setfattr -n system.ntfs_attrib_be -v 0x00000800 comp
        head -c 300000 < <(yes 'a compressible line of text for LZNT1') > comp/text.txt
        head -c 200000 /dev/urandom > comp/random.bin
        truncate -s 3000000 sparse.bin
        printf 'end' >> sparse.bin
        echo ro > readonly.txt
        setfattr -n system.ntfs_attrib_be -v 0x00000021 readonly.txt
        : > empty
        mkdir emptydir
        """;

    [Fact]
    public async Task Ntfs_restore_to_a_directory_matches_the_ntfs3g_mount_in_data_streams_links_and_times()
    {
        var ct = TestContext.Current.CancellationToken;
        using var ntfs = new NtfsVolumeBuilder("restore-files", 96L << 20);
        ntfs.Mount(compression: true);
        ntfs.Bash(Content);
        ntfs.Unmount();
        using var scratch = new Scratch("restore-ntfs");
        var backup = await RestoreTestKit.BackupAsync(ntfs.ImagePath, scratch["t.tap"], ct);

        FileRestoreResult result;
        await using (var tape = SimhTapeDevice.Open(scratch["t.tap"], writable: false))
            result = await FileRestoreJob.RunAsync(new FileRestoreRequest(tape, backup.ArchiveFileNumber, scratch["out"]), null, ct);
        Assert.Empty(result.Refused);
        Assert.Empty(result.Damaged);
        // The target (ext4) is not NTFS: attributes are reported, not silently dropped.
        Assert.Contains(result.NotRestored, p => p.Reason.Contains("not an NTFS", StringComparison.Ordinal));

        ntfs.Mount(readOnly: true);
        // ext4 holds an xattr value only up to its block size: the 30000-byte stream is reported, the rest must match.
        Assert.Contains(result.NotRestored, p => p.Path.StartsWith("ads.txt", StringComparison.Ordinal) && p.Reason.Contains("user.mid", StringComparison.Ordinal));
        var expected = RestoreTestKit.Snapshot(ntfs.MountPoint, "", "$RECYCLE.BIN", "System Volume Information")
            .Select(l => System.Text.RegularExpressions.Regex.Replace(l, ", \"user.mid\": \"[0-9a-f]*\"", ""));
        // Its bytes are not lost: they are kept beside the file, as GNU tar extracts the stream member.
        string kept = Path.Combine(scratch["out"], "ads.txt:mid");
        Assert.Equal(30000, new FileInfo(kept).Length);
        Assert.Contains(result.NotRestored, p => p.Reason.Contains("kept in 'ads.txt:mid'", StringComparison.Ordinal));
        File.Delete(kept);
        var actual = RestoreTestKit.Snapshot(scratch["out"], "");
        Assert.Equal(expected, actual);
        Assert.Equal(2, result.Streams);   // Zone.Identifier and the directory's stream; user.mid was reported above
    }

    [Fact]
    public async Task Restore_onto_an_ntfs3g_mount_makes_streams_real_alternate_data_streams_and_sets_ntfs_attributes()
    {
        var ct = TestContext.Current.CancellationToken;
        using var ntfs = new NtfsVolumeBuilder("restore-src", 96L << 20);
        ntfs.Mount(compression: true);
        ntfs.Bash(Content);
        ntfs.Unmount();
        using var scratch = new Scratch("restore-ntfs-target");
        var backup = await RestoreTestKit.BackupAsync(ntfs.ImagePath, scratch["t.tap"], ct);

        using var target = new NtfsVolumeBuilder("restore-dst", 96L << 20);
        target.Mount();
        string to = target["out"];
        FileRestoreResult result;
        await using (var tape = SimhTapeDevice.Open(scratch["t.tap"], writable: false))
            result = await FileRestoreJob.RunAsync(new FileRestoreRequest(tape, backup.ArchiveFileNumber, to), null, ct);
        Assert.Empty(result.Refused);
        Assert.Empty(result.Damaged);
        Assert.DoesNotContain(result.NotRestored, p => p.Reason.Contains("xattr", StringComparison.Ordinal) || p.Reason.Contains("stream", StringComparison.Ordinal));
        Assert.Equal(3, result.Streams);   // Zone.Identifier, mid and the directory's stream

        ntfs.Mount(readOnly: true);
        var expected = RestoreTestKit.Snapshot(ntfs.MountPoint, "", "$RECYCLE.BIN", "System Volume Information");
        Assert.Equal(expected, RestoreTestKit.Snapshot(to, ""));
        string Attr(string root) => Tool.Run("getfattr", "-h", "--only-values", "-n", "system.ntfs_attrib_be", "-e", "hex", Path.Combine(root, "readonly.txt")).Trim();
        Assert.True(Attr(ntfs.MountPoint) == Attr(to), string.Join("\n", result.NotRestored));
    }
}
