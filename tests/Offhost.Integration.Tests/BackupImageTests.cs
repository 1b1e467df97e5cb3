using System.Text.Json;
using Offhost.Testing;

namespace Offhost.Integration.Tests;

/// <summary>
/// The backup image end to end through the CLI: volumes made by the real tools are backed up to a virtual tape by
/// EXTENDED COPY; GNU tar extracts what the mount of the source shows; volumes and single files come back block for
/// block through stream → block segments; a full tape ends the backup without an index.
/// </summary>
[Trait("Category", "Integration")]
public class BackupImageTests
{
    static long BackupImage(string source, string tape)
    {
        var json = JsonDocument.Parse(Cli.RunOk("backup-image", source, "--tape", tape, "--json")).RootElement;
        return json.GetProperty("archive_file").GetInt64();
    }

    static void NewTape(string tape, string capacity = "2G") => Cli.RunOk("tape", "new", tape, "--capacity", capacity, "--label", "T00001"[..6]);

    static void ExtractWithTar(string tape, long file, string archive, string into)
    {
        Tool.Bash($"{Cli.Command} tape cat '{tape}' --file {file} > '{archive}'");
        Directory.CreateDirectory(into);
        Tool.Run("tar", "--xattrs", "--xattrs-include=user.*", "-xf", archive, "-C", into);
    }

    /// <summary><c>tape cat</c> with stderr on a terminal (script(1) gives it one) shows its progress there, and stdout
    /// holds the same bytes as without a terminal.</summary>
    static void AssertProgressOnTerminalOnly(string tape, long file, string plainCopy, string copy)
    {
        Requires.Tool("script");
        string terminal = Tool.Run("env", "-u", "OFFHOST_NO_PROGRESS", "TERM=xterm", "script", "-qec",
            $"{Cli.Command} tape cat '{tape}' --file {file} > '{copy}'", "/dev/null");
        Assert.Contains($"Reading tape file {file}", terminal, StringComparison.Ordinal);
        Assert.True(File.ReadAllBytes(plainCopy).AsSpan().SequenceEqual(File.ReadAllBytes(copy)), "tape cat on a terminal wrote other bytes");
    }

    static void AssertSameImage(string expected, string actual)
    {
        var r = Tool.TryRun("cmp", [expected, actual]);
        Assert.True(r.ExitCode == 0, $"restored volume differs: {r.Stdout}{r.Stderr}");
    }

    /// <summary>NTFS volumes are backed up as their allocated clusters (as ntfsclone does), so free space may differ;
    /// ntfsclone's own image of each, which holds every allocated cluster, must be identical.</summary>
    static void AssertSameNtfsClusters(string expected, string actual)
    {
        string Digest(string image) => Tool.Bash($"ntfsclone -f --save-image -o - '{image}' 2>/dev/null | sha256sum").Trim();
        Assert.Equal(Digest(expected), Digest(actual));
    }

    [Fact]
    public void NTFS_volume_backs_up_to_a_tape_GNU_tar_extracts_and_restores_block_for_block()
    {
        using var ntfs = new NtfsVolumeBuilder("backup-image", 192L * 1024 * 1024, label: "Backup");
        ntfs.Mount(compression: true);
        ntfs.Bash(NtfsFeatureTree.Script);
        ntfs.Unmount();
        using var s = new Scratch("backup-ntfs");
        string tape = s["t.tap"];
        NewTape(tape);
        long file = BackupImage(ntfs.ImagePath, tape);

        ExtractWithTar(tape, file, s["a.tar"], s["out"]);
        ntfs.Mount(readOnly: true);
        try
        {
            int compared = TreeCompare.AssertSame(ntfs.MountPoint, s["out"], new TreeCompare.Options
            {
                StreamsAsFilesAboveBytes = Server.Planning.ArchivePlanOptions.DefaultAdsInHeaderLimitBytes,
            });
            Assert.True(compared > 40, $"only {compared} files compared");
        }
        finally { ntfs.Unmount(); }

        // The whole volume, block for block.
        Cli.RunOk("restore-image", "--tape", tape, "--file", file.ToString(), "--to", s["restored.img"], "--create", "192M");
        AssertSameNtfsClusters(ntfs.ImagePath, s["restored.img"]);

        // One file, in place: wipe its blocks in a copy of the volume, restore just that file, and the volume is whole again.
        File.Copy(ntfs.ImagePath, s["damaged.img"]);
        var map = Cli.RunOk("map", ntfs.ImagePath, "--json").Split('\n').First(l => l.Contains("\"path\":\"/large.bin\"", StringComparison.Ordinal));
        foreach (var x in JsonDocument.Parse(map).RootElement.GetProperty("streams")[0].GetProperty("extents").EnumerateArray())
            Tool.Run("dd", "if=/dev/zero", $"of={s["damaged.img"]}", "bs=512", $"seek={x.GetProperty("lba").GetInt64()}", $"count={x.GetProperty("blocks").GetInt64()}", "conv=notrunc", "status=none");
        Assert.NotEqual(0, Tool.TryRun("cmp", [ntfs.ImagePath, s["damaged.img"]]).ExitCode);
        Cli.RunOk("restore-image", "--tape", tape, "--file", file.ToString(), "--to", s["damaged.img"], "--path", "/large.bin");
        AssertSameImage(ntfs.ImagePath, s["damaged.img"]);
    }

    [Fact]
    public void Ext4_volume_backs_up_to_a_tape_GNU_tar_extracts_and_restores_block_for_block()
    {
        Requires.Root();
        using var s = new Scratch("backup-ext4");
        string src = s["src"];
        Directory.CreateDirectory(src);
        Ext4FeatureTree.BuildSourceTree(src);
        string image = s["ext4.img"];
        Ext4VolumeBuilder.Create(image, 256L << 20, "ext4", src, "-L", "backup", "-b", "4096", "-I", "256");
        using (var m = Ext4VolumeBuilder.Mount(image, s["rw"], readOnly: false))
            Ext4FeatureTree.WriteThroughMount(m.Path);

        string tape = s["t.tap"];
        NewTape(tape);
        long file = BackupImage(image, tape);
        ExtractWithTar(tape, file, s["a.tar"], s["out"]);
        AssertProgressOnTerminalOnly(tape, file, s["a.tar"], s["b.tar"]);
        using (var m = Ext4VolumeBuilder.Mount(image, s["ro"], readOnly: true))
        {
            int compared = TreeCompare.AssertSame(m.Path, s["out"], new TreeCompare.Options
            {
                CompareModes = true,
                CompareOwners = true,
                Ignore = rel => rel.StartsWith("lost+found", StringComparison.Ordinal),
            });
            Assert.True(compared > 3000, $"only {compared} files compared");
        }

        Cli.RunOk("restore-image", "--tape", tape, "--file", file.ToString(), "--to", s["restored.img"], "--create", "256M");
        AssertSameImage(image, s["restored.img"]);
    }

    [Fact]
    public void A_tape_that_fills_up_ends_the_backup_with_exit_code_6_and_no_index()
    {
        Requires.Tool("mkfs.ext4");
        using var s = new Scratch("backup-eom");
        Directory.CreateDirectory(s["src"]);
        File.WriteAllBytes(s["src/big.bin"], TestData.Random(1, 40 << 20));
        Tool.Run("mkfs.ext4", "-q", "-F", "-d", s["src"], s["v.img"], "64M");
        NewTape(s["t.tap"], "16M");
        var r = Cli.Run("backup-image", s["v.img"], "--tape", s["t.tap"]);
        Assert.Equal(6, r.ExitCode);
        Assert.Contains("the tape is full", r.Stderr);
        Assert.Contains("no index was written", r.Stderr);
        var ls = JsonDocument.Parse(Cli.RunOk("tape", "ls", s["t.tap"], "--json")).RootElement;
        Assert.Equal(2, ls.GetProperty("files").GetArrayLength());   // the label and the unfinished archive, no index
    }

    [Fact]
    public void A_tape_left_ending_inside_a_record_is_appended_to_from_that_record_with_a_warning()
    {
        Requires.Tool("mkfs.ext4");
        using var s = new Scratch("backup-torn");
        Directory.CreateDirectory(s["src"]);
        var data = TestData.Random(2, 3 << 20);
        File.WriteAllBytes(s["src/a.bin"], data);
        Tool.Run("mkfs.ext4", "-q", "-F", "-d", s["src"], s["v.img"], "32M");
        NewTape(s["t.tap"], "1G");
        long first = BackupImage(s["v.img"], s["t.tap"]);
        long end = new FileInfo(s["t.tap"]).Length;
        // What a backup killed in the middle of a record leaves: a leader promising 1 MiB, and 5,000 bytes of it.
        using (var f = new FileStream(s["t.tap"], FileMode.Append))
        {
            f.Write(BitConverter.GetBytes(1 << 20));
            f.Write(new byte[5000]);
        }

        var r = Cli.Run("backup-image", s["v.img"], "--tape", s["t.tap"], "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains($"incomplete record at byte offset {end}", r.Stderr);
        long second = JsonDocument.Parse(r.Stdout).RootElement.GetProperty("archive_file").GetInt64();
        Assert.Equal(first + 2, second);   // after the first backup's archive and index, where the cut record was
        var ls = JsonDocument.Parse(Cli.RunOk("tape", "ls", s["t.tap"], "--json")).RootElement;
        Assert.Equal(5, ls.GetProperty("files").GetArrayLength());   // label, archive, index, archive, index
        ExtractWithTar(s["t.tap"], second, s["second.tar"], s["x"]);
        Assert.Equal(data, File.ReadAllBytes(s["x/a.bin"]));
    }
}
