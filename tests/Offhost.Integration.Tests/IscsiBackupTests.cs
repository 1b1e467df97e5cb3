using System.Text.Json;
using Offhost.Testing;

namespace Offhost.Integration.Tests;

/// <summary>
/// The SAN over iSCSI against a real target (tgtd): map a LUN, back it up from the iSCSI disk to the iSCSI tape,
/// restore it into another LUN, and read the tape file back through the initiator with GNU tar. CHAP and CRC32C
/// header and data digests are on throughout.
/// </summary>
[Trait("Category", "Integration")]
public class IscsiBackupTests
{
    const string DiskIqn = "iqn.2026-11.org.offhost.test:disks";
    const string TapeIqn = "iqn.2026-11.org.offhost.test:tapes";
    const string User = "backup";
    const string Secret = "s3cret-chap-pw";

    static readonly Dictionary<string, string> Env = new()
    {
        ["OFFHOST_ISCSI_SECRET"] = Secret,
        ["OFFHOST_ISCSI_DIGESTS"] = "1",
    };

    [Fact]
    public void Backup_from_an_iSCSI_disk_to_the_iSCSI_tape_restores_into_another_LUN_and_tar_reads_the_tape()
    {
        using var tgt = new TgtDaemon();
        using var s = new Scratch("iscsi-backup");
        string volume = s["ntfs.img"];
        Tool.Run("bash", Path.Combine(Cli.RepoRoot, "scripts/make-sample-ntfs.sh"), volume);
        string target = s["target.img"];
        using (var f = File.Create(target)) f.SetLength(new FileInfo(volume).Length);

        tgt.AddTarget(1, DiskIqn);
        tgt.AddDiskFile(1, 1, volume);
        tgt.AddDiskFile(1, 2, target);
        tgt.AddAccount(1, User, Secret);
        string ext4 = s["ext4.img"];
        Directory.CreateDirectory(s["ext4src/sub"]);
        File.WriteAllBytes(s["ext4src/sub/data.bin"], TestData.Random(9, 3_000_000));
        File.WriteAllText(s["ext4src/hello.txt"], "hello over iSCSI\n");
        Tool.Run("mkfs.ext4", "-q", "-F", "-d", s["ext4src"], ext4, "32M");
        tgt.AddDiskFile(1, 3, ext4);
        tgt.AddTarget(2, TapeIqn);
        string cartridge = tgt.AddTape(2, 1, 256, "OFH001");
        tgt.Admin("--mode", "account", "--op", "bind", "--tid", "2", "--user", User);   // tgtd accounts are global

        string disk = $"iscsi://{User}@{tgt.Portal}/{DiskIqn}/1";
        string disk2 = $"iscsi://{User}@{tgt.Portal}/{DiskIqn}/2";
        string tape = $"iscsi://{User}@{tgt.Portal}/{TapeIqn}/1";

        // The map over iSCSI equals the map of the same image read locally, apart from the device's identity.
        static string[] WithoutDevice(string jsonl) => jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.StartsWith("{\"type\":\"volume\"", StringComparison.Ordinal)
                ? System.Text.RegularExpressions.Regex.Replace(l, "\"device\":\"[^\"]*\"", "\"device\":\"\"") : l).ToArray();
        var remote = WithoutDevice(Cli.RunOkWith(Env, "map", disk, "--json"));
        var local = WithoutDevice(Cli.RunOk("map", volume, "--json"));
        Assert.Equal(local, remote);
        Assert.Equal(WithoutDevice(Cli.RunOk("map", ext4, "--json")), WithoutDevice(Cli.RunOkWith(Env, "map", $"iscsi://{User}@{tgt.Portal}/{DiskIqn}/3", "--json")));
        // The device is named by the LUN's NAA designator (VPD 83h), the same from every host and portal.
        Assert.Matches("\"device\":\"[0-9a-fA-F]{16,}\"", Cli.RunOkWith(Env, "map", disk, "--json").Split('\n')[0]);

        Cli.RunOkWith(Env, "tape", "new", tape, "--capacity", "256M", "--label", "OFH001");
        var backup = JsonDocument.Parse(Cli.RunOkWith(Env, "backup-image", disk, "--tape", tape, "--json")).RootElement;
        long file = backup.GetProperty("archive_file").GetInt64();
        Assert.Equal(1, file);
        Assert.True(new FileInfo(cartridge).Length > 3_000_000, "the tgt cartridge holds the archive");

        var ls = JsonDocument.Parse(Cli.RunOkWith(Env, "tape", "ls", tape, "--json")).RootElement;
        Assert.Equal("OFH001", ls.GetProperty("label").GetString());
        Assert.Equal(["volume label", "pax archive"], ls.GetProperty("files").EnumerateArray().Take(2).Select(f => f.GetProperty("content").GetString()));
        Assert.StartsWith("index of backup", ls.GetProperty("files")[2].GetProperty("content").GetString(), StringComparison.Ordinal);
        // Lengths the drive reported without sending the records: the archive as written, in 256 KiB records.
        long archiveBytes = backup.GetProperty("archive_bytes").GetInt64();
        Assert.Equal(archiveBytes, ls.GetProperty("files")[1].GetProperty("bytes").GetInt64());
        Assert.Equal((archiveBytes + (256 << 10) - 1) / (256 << 10), ls.GetProperty("files")[1].GetProperty("records").GetInt64());

        // The catalogued backup of a LUN: no freeze is possible from here (provider none), the catalog keeps the tape's
        // address without its secret, and verify finds the tape there.
        string catalog = s["catalog.db"];
        var product = JsonDocument.Parse(Cli.RunOkWith(Env, "backup", disk, "--tape", tape, "--catalog", catalog, "--json")).RootElement;
        Assert.Equal("none", product.GetProperty("snapshot").GetString());
        Assert.Equal(3, product.GetProperty("archive_file").GetInt64());
        Assert.Equal(0, Cli.RunWith(Env, "verify", "latest", "--catalog", catalog).ExitCode);
        Assert.DoesNotContain(Secret, string.Concat(Directory.GetFiles(s.Dir, "catalog.db*").Select(File.ReadAllText)), StringComparison.Ordinal);
        Assert.NotEqual(0, Cli.RunWith(Env, "backup", disk, "--tape", tape, "--catalog", catalog, "--snapshot", "freeze").ExitCode);

        Cli.RunOkWith(Env, "restore-image", "--tape", tape, "--file", file.ToString(), "--to", disk2);
        string Digest(string image) => Tool.Bash($"ntfsclone -f --save-image -o - '{image}' 2>/dev/null | sha256sum").Trim();
        Assert.Equal(Digest(volume), Digest(target));

        // GNU tar reads the archive tape file, read back through the initiator.
        Directory.CreateDirectory(s["out"]);
        Tool.Bash($"env OFFHOST_ISCSI_SECRET='{Secret}' OFFHOST_ISCSI_DIGESTS=1 {Cli.Command} tape cat '{tape}' --file {file} | tar --xattrs --xattrs-include='user.*' -xf - -C '{s["out"]}'");
        Directory.CreateDirectory(s["mnt"]);
        Tool.Run("ntfs-3g", "-o", "ro,streams_interface=xattr", volume, s["mnt"]);
        try
        {
            Assert.True(TreeCompare.AssertSame(s["mnt"], s["out"]) >= 5);
        }
        finally { Tool.Run("umount", s["mnt"]); }
    }

    [Fact]
    public void A_wrong_CHAP_secret_is_a_clear_error()
    {
        using var tgt = new TgtDaemon();
        tgt.AddTarget(1, DiskIqn);
        tgt.AddDisk(1, 1, new byte[1 << 20]);
        tgt.AddAccount(1, User, Secret);
        var r = Cli.RunWith(new Dictionary<string, string> { ["OFFHOST_ISCSI_SECRET"] = "Zq9-not-it" }, "map", $"iscsi://{User}@{tgt.Portal}/{DiskIqn}/1");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("offhost:", r.Stderr);
        Assert.DoesNotContain("Zq9-not-it", r.Stderr);
        Assert.DoesNotContain("Unhandled", r.Stderr);
    }
}
