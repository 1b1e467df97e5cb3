using System.Diagnostics;
using System.Text.Json;
using Offhost.Testing;

namespace Offhost.Integration.Tests;

/// <summary>
/// The product commands end to end, as an administrator runs them: <c>backup</c> from a frozen image into the catalog,
/// <c>backups</c>, <c>files</c>, <c>restore</c> of files and of the volume, <c>verify</c> and <c>catalog rebuild</c>;
/// live file systems under writers with the reflink and freeze providers; a quiesce that times out; a backup killed
/// mid-way. Ground truth comes from ntfs-3g and loop mounts, e2fsck and copies taken at the freeze point.
/// </summary>
[Trait("Category", "Integration")]
public class BackupCommandTests
{
    static void NewTape(string tape, string label = "BKP001") => Cli.RunOk("tape", "new", tape, "--capacity", "2G", "--label", label);

    static JsonElement Json(string stdout) => JsonDocument.Parse(stdout).RootElement;

    static string Backup(string catalog, string tape, params string[] args) =>
        Json(Cli.RunOk(["backup", .. args, "--tape", tape, "--catalog", catalog, "--json"])).GetProperty("backup_id").GetString()!;

    static JsonElement[] Backups(string catalog) => [.. Json(Cli.RunOk("backups", "--catalog", catalog, "--json")).EnumerateArray()];

    [Fact]
    public void Ntfs_volume_backup_lists_restores_files_and_volume_verifies_and_survives_a_lost_catalog()
    {
        NtfsVolumeBuilder.RequireTools();
        using var ntfs = new NtfsVolumeBuilder("backup-cmd", 128L << 20, label: "Product");
        ntfs.Mount(compression: true);
        ntfs.Bash(NtfsFeatureTree.Script);
        byte[] marker = TestData.Random(77, 64 * 1024);
        File.WriteAllBytes(ntfs["marker.bin"], marker);
        ntfs.Unmount();
        using var s = new Scratch("backup-cmd-ntfs");
        string tape = s["t.tap"], catalog = s["catalog.db"];
        NewTape(tape);

        // The backup prints its id first; the catalog holds it as good with its files.
        var text = Cli.RunOk("backup", ntfs.ImagePath, "--tape", tape, "--catalog", catalog, "--quiesce", "0");
        string id = text.Split('\n')[0].Trim();
        Assert.Matches(@"^\d{8}T\d{6}Z-[0-9a-f]{8}$", id);
        var listed = Assert.Single(Backups(catalog));
        Assert.Equal(id, listed.GetProperty("id").GetString());
        Assert.Equal("good", listed.GetProperty("status").GetString());
        Assert.Equal("ntfs", listed.GetProperty("sources")[0].GetProperty("filesystem").GetString());
        Assert.True(listed.GetProperty("files").GetInt64() > 40);

        var files = Cli.RunOk("files", id, "--catalog", catalog, "--json").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => Json(l).GetProperty("path").GetString()!).ToList();
        Assert.Contains("/marker.bin", files);
        Assert.DoesNotContain(files, f => f.StartsWith("/.offhost", StringComparison.Ordinal));
        Assert.Equal(["/marker.bin"], Cli.RunOk("files", "latest", "marker.*", "--catalog", catalog, "--json")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => Json(l).GetProperty("path").GetString()));

        // Files: into a plain directory (data, times, links; large streams kept beside their files) and onto an ntfs-3g
        // mount (streams and attributes land as NTFS has them), byte for byte.
        static bool SystemFiles(string p) => p.StartsWith("$RECYCLE.BIN", StringComparison.Ordinal) || p.StartsWith("System Volume Information", StringComparison.Ordinal);
        var plain = Json(Cli.Run("restore", id, "--to", s["plain"], "--catalog", catalog, "--json").Stdout);
        Assert.Empty(plain.GetProperty("damaged").EnumerateArray());
        using (var target = new NtfsVolumeBuilder("backup-cmd-dst", 128L << 20))
        {
            target.Mount();
            var restored = Json(Cli.RunOk("restore", id, "--to", target["out"], "--catalog", catalog, "--json"));
            Assert.True(restored.GetProperty("complete").GetBoolean(), restored.ToString());
            ntfs.Mount(readOnly: true);
            try
            {
                Assert.True(TreeCompare.AssertSame(ntfs.MountPoint, s["plain"], new TreeCompare.Options
                {
                    Ignore = SystemFiles,
                    StreamsAsFilesAboveBytes = Server.Planning.ArchivePlanOptions.DefaultAdsInHeaderLimitBytes,
                }) > 40);
                int compared = TreeCompare.AssertSame(ntfs.MountPoint, target["out"], new TreeCompare.Options { Ignore = SystemFiles });
                Assert.True(compared > 40, $"only {compared} entries compared");
            }
            finally { ntfs.Unmount(); }
        }

        // One file by path into an empty directory: only it comes back.
        // (Exit code 3: NTFS attributes and creation time cannot go onto this file system, and the restore says so.)
        var one = Cli.Run("restore", id, "--to", s["one"], "/marker.bin", "--catalog", catalog);
        Assert.True(one.ExitCode is 0 or 3 && one.Stdout.Contains("NTFS attributes", StringComparison.Ordinal), one.Stdout + one.Stderr);
        Assert.Equal(["marker.bin"], Directory.EnumerateFileSystemEntries(s["one"]).Select(Path.GetFileName));
        Assert.Equal(marker, File.ReadAllBytes(s["one/marker.bin"]));

        // The whole volume, into a new image created at the volume's size: every allocated cluster is identical.
        Cli.RunOk("restore", id, "--volume", "--to", s["volume.img"], "--catalog", catalog);
        string Clusters(string image) => Tool.Bash($"ntfsclone -f --save-image -o - '{image}' 2>/dev/null | sha256sum").Trim();
        Assert.Equal(Clusters(ntfs.ImagePath), Clusters(s["volume.img"]));

        Assert.Equal(0, Cli.Run("verify", id, "--catalog", catalog).ExitCode);
        Assert.True(Backups(catalog)[0].GetProperty("verify_ok").GetBoolean());

        // The catalog is lost: rebuilt from the tape alone, it knows the backup under the same id and restores from it.
        string rebuilt = s["rebuilt.db"];
        Cli.RunOk("catalog", "rebuild", "--tape", tape, "--catalog", rebuilt);
        Assert.Equal(id, Assert.Single(Backups(rebuilt)).GetProperty("id").GetString());
        Cli.Run("restore", id, "--to", s["from-rebuilt"], "/marker.bin", "--catalog", rebuilt);
        Assert.Equal(marker, File.ReadAllBytes(s["from-rebuilt/marker.bin"]));

        // A byte flipped on the tape is found, and named by file and archive offset.
        byte[] tapeBytes = File.ReadAllBytes(tape);
        int at = tapeBytes.AsSpan().IndexOf(marker.AsSpan(0, 4096));
        Assert.True(at > 0, "marker data not found on the tape");
        using (var f = new FileStream(tape, FileMode.Open, FileAccess.ReadWrite))
        {
            f.Position = at + 1000;
            int b = f.ReadByte();
            f.Position = at + 1000;
            f.WriteByte((byte)(b ^ 0x40));
        }
        var verify = Cli.Run("verify", id, "--catalog", catalog, "--json");
        Assert.Equal(4, verify.ExitCode);
        var problems = Json(verify.Stdout).GetProperty("problems").EnumerateArray().Select(p => p.GetString()!).ToList();
        Assert.Contains(problems, p => p.Contains("marker.bin", StringComparison.Ordinal));
        Assert.False(Backups(catalog)[0].GetProperty("verify_ok").GetBoolean());
    }

    [Fact]
    public void Ext4_volume_backup_restores_files_with_metadata_and_a_volume_that_mounts()
    {
        Requires.Root();
        Requires.Tool("mkfs.ext4");
        using var s = new Scratch("backup-cmd-ext4");
        string src = s["src"];
        Ext4FeatureTree.BuildSourceTree(src);
        string image = s["ext4.img"];
        Ext4VolumeBuilder.Create(image, 128L << 20, "ext4", src, "-L", "product", "-b", "4096", "-I", "256");
        using (var m = Ext4VolumeBuilder.Mount(image, s["rw"], readOnly: false))
            Ext4FeatureTree.WriteThroughMount(m.Path);
        string tape = s["t.tap"], catalog = s["catalog.db"];
        NewTape(tape);
        string id = Backup(catalog, tape, image, "--quiesce", "0");

        Cli.Run("restore", id, "--to", s["out"], "--catalog", catalog);
        Cli.RunOk("restore", id, "--volume", "--to", s["volume.img"], "--catalog", catalog);
        Assert.True(Ext4VolumeBuilder.FsckClean(s["volume.img"]), Tool.TryRun("e2fsck", ["-fn", s["volume.img"]]).Stdout);
        using var ro = Ext4VolumeBuilder.Mount(image, s["ro"], readOnly: true);
        using var back = Ext4VolumeBuilder.Mount(s["volume.img"], s["back"], readOnly: true);
        var options = new TreeCompare.Options { CompareModes = true, CompareOwners = true, Ignore = p => p.StartsWith("lost+found", StringComparison.Ordinal) };
        Assert.True(TreeCompare.AssertSame(ro.Path, s["out"], options with { CompareSpecialFiles = true }) > 10);
        Assert.True(TreeCompare.AssertSame(ro.Path, back.Path, options) > 10);
    }

    /// <summary>The file system writes its data to the loop device as block I/O, past the device's page cache: a block the
    /// first backup read through that cache would come back unchanged to the second backup after the file was rewritten
    /// in place. Both backups must restore exactly what the file held when each was taken.</summary>
    [Fact]
    public void A_second_backup_of_a_mounted_file_system_holds_the_blocks_rewritten_in_place_since_the_first()
    {
        Requires.Root();
        Requires.Tool("mkfs.ext4");
        Requires.Tool("fsfreeze");
        using var s = new Scratch("backup-rewritten");
        Tool.Run("truncate", "-s", "64M", s["v.img"]);
        Tool.Run("mkfs.ext4", "-q", "-F", "-b", "4096", s["v.img"]);
        using var vol = Ext4VolumeBuilder.Mount(s["v.img"], s["vol"], readOnly: false);
        string file = Path.Combine(vol.Path, "data.bin"), tape = s["t.tap"], catalog = s["catalog.db"];
        File.WriteAllBytes(file, TestData.Random(1, 3_000_000));
        Tool.Run("sync");
        byte[] first = File.ReadAllBytes(file);
        NewTape(tape);
        string id1 = Backup(catalog, tape, vol.Path, "--snapshot", "freeze", "--quiesce", "0");

        // Rewrite 400 KiB in the middle of the file in place: same blocks, new bytes.
        Tool.Bash($"dd if=/dev/urandom of='{file}' bs=4096 seek=100 count=100 conv=notrunc,fsync status=none");
        byte[] second = File.ReadAllBytes(file);
        Assert.False(first.AsSpan().SequenceEqual(second));
        string id2 = Backup(catalog, tape, vol.Path, "--snapshot", "freeze", "--quiesce", "0");

        Cli.RunOk("restore", id1, "--to", s["out1"], "--catalog", catalog);
        Cli.RunOk("restore", id2, "--to", s["out2"], "--catalog", catalog);
        Assert.True(first.AsSpan().SequenceEqual(File.ReadAllBytes(s["out1/data.bin"])), "the first backup does not hold the file as it was");
        byte[] restored = File.ReadAllBytes(s["out2/data.bin"]);
        int differsAt = restored.AsSpan().CommonPrefixLength(second);
        Assert.True(differsAt == second.Length && restored.Length == second.Length,
            $"the second backup differs from the file at byte {differsAt} (the rewritten range is bytes 409600-819199)");
    }

    /// <summary>An ext4 image on XFS, loop-mounted while three writers append sequence numbers; a copy taken by
    /// <c>--while-frozen</c> is the state at the freeze point, and the restored backup must equal it exactly.</summary>
    [Theory]
    [InlineData("reflink")]
    [InlineData("freeze")]
    public void Live_ext4_under_writers_backs_up_exactly_the_state_at_the_freeze_point(string provider)
    {
        Requires.Root();
        Requires.Tool("mkfs.xfs");
        Requires.Tool("mkfs.ext4");
        Requires.Tool("fsfreeze");
        using var s = new Scratch("backup-live-" + provider);
        Tool.Run("truncate", "-s", "320M", s["xfs.img"]);
        Tool.Run("mkfs.xfs", "-q", "-m", "reflink=1", s["xfs.img"]);
        using var xfs = Ext4VolumeBuilder.Mount(s["xfs.img"], s["xfs"], readOnly: false);
        string image = Path.Combine(xfs.Path, "vol.img");
        Tool.Run("truncate", "-s", "64M", image);
        Tool.Run("mkfs.ext4", "-q", "-F", "-b", "4096", image);
        using var vol = Ext4VolumeBuilder.Mount(image, s["vol"], readOnly: false);
        string tape = s["t.tap"], catalog = s["catalog.db"], atFreeze = s["at-freeze"];
        NewTape(tape);

        var writers = Enumerable.Range(0, 3).Select(w => Start($"i=0; while :; do i=$((i+1)); echo $i >> '{vol.Path}/seq{w}'; done")).ToList();
        string id;
        try
        {
            Thread.Sleep(1000);
            id = Backup(catalog, tape, vol.Path, "--snapshot", provider, "--quiesce", "0",
                "--while-frozen", $"mkdir -p '{atFreeze}' && cp '{vol.Path}'/seq* '{atFreeze}/'");
            // The writers went on after the backup: nothing stayed frozen.
            long before = new FileInfo(Path.Combine(vol.Path, "seq0")).Length;
            Thread.Sleep(500);
            Assert.True(new FileInfo(Path.Combine(vol.Path, "seq0")).Length > before, "writers did not resume after the backup");
        }
        finally
        {
            foreach (var w in writers) { w.Kill(entireProcessTree: true); w.WaitForExit(); w.Dispose(); }
        }

        var listed = Assert.Single(Backups(catalog));
        Assert.Equal(provider, listed.GetProperty("snapshot").GetString());
        Cli.RunOk("restore", id, "--to", s["out"], "--catalog", catalog);
        for (int w = 0; w < 3; w++)
        {
            byte[] restored = File.ReadAllBytes(s[$"out/seq{w}"]);
            byte[] frozen = File.ReadAllBytes(Path.Combine(atFreeze, $"seq{w}"));
            Assert.True(restored.Length > 0, $"seq{w} is empty in the backup");
            Assert.True(restored.AsSpan().SequenceEqual(frozen), $"seq{w}: backup ({restored.Length} bytes) differs from the copy taken at the freeze point ({frozen.Length} bytes)");
        }
        Assert.Empty(Directory.EnumerateFiles(xfs.Path, "*.snap"));   // the reflink clone is gone
    }

    [Fact]
    public void Under_constant_writes_the_quiesce_times_out_records_nothing_and_leaves_the_file_system_writable()
    {
        Requires.Root();
        Requires.Tool("mkfs.ext4");
        using var s = new Scratch("backup-quiesce");
        Tool.Run("truncate", "-s", "64M", s["v.img"]);
        Tool.Run("mkfs.ext4", "-q", "-F", s["v.img"]);
        using var vol = Ext4VolumeBuilder.Mount(s["v.img"], s["vol"], readOnly: false);
        string tape = s["t.tap"], catalog = s["catalog.db"];
        NewTape(tape);
        using var writer = Start($"while :; do dd if=/dev/urandom of='{vol.Path}/busy' bs=4k count=4 oflag=direct conv=notrunc status=none; sleep 0.1; done");
        try
        {
            var r = Cli.Run("backup", vol.Path, "--tape", tape, "--catalog", catalog, "--snapshot", "freeze", "--quiesce", "2s", "--quiesce-timeout", "4s");
            Assert.Equal(5, r.ExitCode);
            Assert.Contains("never idle for 2 s", r.Stderr, StringComparison.Ordinal);
        }
        finally { writer.Kill(entireProcessTree: true); writer.WaitForExit(); }
        Assert.Empty(Backups(catalog));
        Assert.True(CanWrite(vol.Path, TimeSpan.FromSeconds(5)), "the file system is still frozen");
    }

    [Fact]
    public async Task A_backup_killed_mid_copy_leaves_no_good_backup_a_catalog_that_opens_and_a_thawed_file_system()
    {
        Requires.Root();
        Requires.Tool("mkfs.ext4");
        Requires.Tool("fsfreeze");
        using var s = new Scratch("backup-kill");
        Tool.Run("truncate", "-s", "768M", s["v.img"]);
        Tool.Run("mkfs.ext4", "-q", "-F", s["v.img"]);
        using var vol = Ext4VolumeBuilder.Mount(s["v.img"], s["vol"], readOnly: false);
        Tool.Bash($"for i in 1 2 3 4 5 6; do head -c 100M /dev/urandom > '{vol.Path}/big$i'; done; sync");
        string tape = s["t.tap"], catalog = s["catalog.db"];
        NewTape(tape);

        // The smallest tape records make the copy slow enough (over a million writes) to be caught in the middle.
        var psi = Cli.StartInfo("backup", vol.Path, "--tape", tape, "--catalog", catalog, "--snapshot", "freeze", "--quiesce", "0", "--record-size", "512");
        using var backup = Process.Start(psi)!;
        var copying = new TaskCompletionSource();
        bool copied = false;
        var said = new System.Collections.Concurrent.ConcurrentQueue<string>();
        backup.ErrorDataReceived += (_, e) =>
        {
            said.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {e.Data}");
            if (e.Data?.Contains("Copying", StringComparison.Ordinal) == true) copying.TrySetResult();
            if (e.Data?.Contains("Cataloguing", StringComparison.Ordinal) == true) copied = true;
        };
        backup.BeginErrorReadLine();
        await copying.Task.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        bool frozen = IsFrozen(vol.Path);
        said.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} probe: frozen={frozen}");
        Assert.False(copied || backup.HasExited, "the copy finished before the backup could be killed in the middle of it");
        Assert.True(frozen, "the file system should be frozen during a freeze-provider copy:\n" + string.Join("\n", said));
        backup.Kill();   // SIGKILL
        await backup.WaitForExitAsync(TestContext.Current.CancellationToken);

        Assert.True(CanWrite(vol.Path, TimeSpan.FromSeconds(10)), "the watchdog did not thaw the file system");
        var listed = Assert.Single(Backups(catalog));
        Assert.NotEqual("good", listed.GetProperty("status").GetString());
        Assert.Contains("interrupted", listed.GetProperty("error").GetString(), StringComparison.Ordinal);

        // Restoring it by its id says first that it is no good backup, and why.
        string id = listed.GetProperty("id").GetString()!;
        var restore = Cli.Run("restore", id, "--to", s["restored"], "--catalog", catalog);
        Assert.Contains($"warning: backup {id} is failed (", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("interrupted", restore.Stderr, StringComparison.Ordinal);
    }

    /// <summary>True when the file system is frozen: a second FIFREEZE is refused (EBUSY). One that succeeds is undone.</summary>
    static bool IsFrozen(string mountPoint)
    {
        if (Tool.TryRun("fsfreeze", ["-f", mountPoint]).ExitCode != 0) return true;
        Tool.Run("fsfreeze", "-u", mountPoint);
        return false;
    }

    static Process Start(string script)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        return Process.Start(psi)!;
    }

    /// <summary>True when a small direct write completes within <paramref name="timeout"/> (a frozen file system blocks it).</summary>
    static bool CanWrite(string mountPoint, TimeSpan timeout)
    {
        using var p = Start($"dd if=/dev/zero of='{mountPoint}/.probe-{Guid.NewGuid():N}' bs=4096 count=1 oflag=direct status=none");
        return p.WaitForExit(timeout) && p.ExitCode == 0;
    }
}
