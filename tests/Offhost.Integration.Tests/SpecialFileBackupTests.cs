using System.Text.Json;
using Offhost.Testing;

namespace Offhost.Integration.Tests;

/// <summary>
/// FIFOs, device nodes and sockets on ext4, end to end as an administrator meets them: <c>backup</c>, <c>files</c>,
/// <c>restore</c> (as root, and without CAP_MKNOD), and GNU tar reading <c>tape cat</c>. Ground truth is a loop mount of
/// the source image and stat.
/// </summary>
[Trait("Category", "Integration")]
public class SpecialFileBackupTests
{
    static JsonElement Json(string line) => JsonDocument.Parse(line).RootElement;

    /// <summary>Type, device number, mode, owner and mtime as stat prints them; "absent" when there is nothing.</summary>
    static string StatOf(string path)
    {
        var r = Tool.TryRun("stat", ["-c", "%F %t:%T %a %u:%g %.9Y", path]);
        return r.ExitCode == 0 ? r.Stdout.Trim() : "absent";
    }

    static readonly string[] Specials = ["dev/fifo", "dev/null", "dev/null-again", "dev/loop200", "dev/big"];

    [Fact]
    public void Fifos_and_device_nodes_come_back_from_tape_with_their_numbers_and_sockets_are_reported()
    {
        Requires.Root();
        Requires.Tool("mkfs.ext4");
        Requires.Tool("tar");
        using var s = new Scratch("backup-special");
        string src = s["src"];
        Directory.CreateDirectory(src);
        Tool.Bash($"""
            cd '{src}'
            mkdir dev
            mkfifo -m 640 dev/fifo && chown 12:34 dev/fifo
            mknod -m 666 dev/null c 1 3 && ln dev/null dev/null-again
            mknod -m 600 dev/loop200 b 7 200 && chown 0:6 dev/loop200
            mknod -m 644 dev/big c 300 70000
            python3 -c 'import socket; s=socket.socket(socket.AF_UNIX); s.bind("dev/sock")'
            head -c 100000 /dev/urandom > data.bin
            echo hello > dev/readme
            touch -h -d '2021-02-03 04:05:06.123456789' dev/fifo dev/null dev/loop200 dev/big dev/sock
            """);
        string image = s["ext4.img"];
        Ext4VolumeBuilder.Create(image, 32L << 20, "ext4", src, "-b", "4096", "-I", "256");
        string tape = s["t.tap"], catalog = s["catalog.db"];
        Cli.RunOk("tape", "new", tape, "--capacity", "1G", "--label", "SPC001");
        var backup = Json(Cli.RunOk("backup", image, "--tape", tape, "--catalog", catalog, "--quiesce", "0", "--json"));
        string id = backup.GetProperty("backup_id").GetString()!;
        int archiveFile = backup.GetProperty("archive_file").GetInt32();
        using var ro = Ext4VolumeBuilder.Mount(image, s["ro"], readOnly: true);

        // files: every special file with its kind and, for devices, its number.
        var listed = Cli.RunOk("files", id, "/dev/*", "--catalog", catalog, "--json").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(Json).ToDictionary(j => j.GetProperty("path").GetString()!);
        Assert.Equal("fifo", listed["/dev/fifo"].GetProperty("kind").GetString());
        Assert.Equal("socket", listed["/dev/sock"].GetProperty("kind").GetString());
        Assert.Equal("file", listed["/dev/readme"].GetProperty("kind").GetString());
        foreach (var (path, kind, major, minor) in new[] { ("/dev/null", "chardev", 1, 3), ("/dev/loop200", "blockdev", 7, 200), ("/dev/big", "chardev", 300, 70000) })
        {
            var f = listed.TryGetValue(path, out var named) ? named : listed.Values.Single(v => v.GetProperty("links").EnumerateArray().Any(l => l.GetString() == path));
            Assert.Equal(kind, f.GetProperty("kind").GetString());
            Assert.Equal((major, minor), (f.GetProperty("rdev").GetProperty("major").GetInt32(), f.GetProperty("rdev").GetProperty("minor").GetInt32()));
        }
        var text = Cli.RunOk("files", id, "/dev/*", "--catalog", catalog).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^p 0640 +0 ", Assert.Single(text, l => l.EndsWith("/dev/fifo", StringComparison.Ordinal)));
        Assert.Matches(@"^b 0600 +7,200 ", Assert.Single(text, l => l.EndsWith("/dev/loop200", StringComparison.Ordinal)));
        Assert.Matches(@"^s 0755 +0 ", Assert.Single(text, l => l.EndsWith("/dev/sock", StringComparison.Ordinal)));

        // verify re-reads the archive against the index, device numbers included; a catalog rebuilt from the tape alone
        // lists the same kinds and numbers.
        Assert.Equal(0, Cli.Run("verify", id, "--catalog", catalog).ExitCode);
        string rebuilt = s["rebuilt.db"];
        Cli.RunOk("catalog", "rebuild", "--tape", tape, "--catalog", rebuilt);
        var again = Cli.RunOk("files", id, "/dev/*", "--catalog", rebuilt, "--json").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(Json).ToDictionary(j => j.GetProperty("path").GetString()!);
        Assert.Equal(listed.Keys.Order(), again.Keys.Order());
        foreach (var (path, f) in listed)
            Assert.Equal((f.GetProperty("kind").GetString(), f.GetProperty("rdev").ToString()),
                (again[path].GetProperty("kind").GetString(), again[path].GetProperty("rdev").ToString()));

        // restore as root: nodes, FIFO and hard link as on the source; the socket is named in the "not restored" list.
        var restored = Cli.Run("restore", id, "--to", s["out"], "--catalog", catalog, "--json");
        Assert.Equal(3, restored.ExitCode);
        var result = Json(restored.Stdout);
        Assert.Equal(4, result.GetProperty("special_files").GetInt64());
        var notRestored = result.GetProperty("not_restored").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains("socket", Assert.Single(notRestored), StringComparison.Ordinal);
        Assert.StartsWith("dev/sock", notRestored[0], StringComparison.Ordinal);
        foreach (var p in Specials) Assert.Equal(StatOf(Path.Combine(ro.Path, p)), StatOf(Path.Combine(s["out"], p)));
        Assert.Equal("absent", StatOf(s["out/dev/sock"]));
        Assert.Equal(TreeCompare.Stat(s["out/dev/null"]).Ino, TreeCompare.Stat(s["out/dev/null-again"]).Ino);
        Assert.True(TreeCompare.AssertSame(ro.Path, s["out"], new TreeCompare.Options
        {
            CompareModes = true, CompareOwners = true, CompareSpecialFiles = true, Ignore = p => p.StartsWith("lost+found", StringComparison.Ordinal),
        }) >= 7);

        // Without CAP_MKNOD the devices cannot be made: each is reported, and the rest of the restore still happens.
        var capless = Tool.TryRun("/bin/bash", ["-c", $"setpriv --bounding-set -mknod {Cli.Command} restore {id} --to '{s["capless"]}' --catalog '{catalog}' --json"]);
        Assert.Equal(3, capless.ExitCode);
        var partial = Json(capless.Stdout).GetProperty("not_restored").EnumerateArray().Select(e => e.GetString()!).ToList();
        foreach (var p in new[] { "dev/null", "dev/loop200", "dev/big" })
            Assert.Contains(partial, l => l.StartsWith(p + ":", StringComparison.Ordinal) && l.Contains("mknod: Operation not permitted", StringComparison.Ordinal));
        Assert.Equal(StatOf(Path.Combine(ro.Path, "dev/fifo")), StatOf(s["capless/dev/fifo"]));
        Assert.Equal(File.ReadAllBytes(Path.Combine(ro.Path, "data.bin")), File.ReadAllBytes(s["capless/data.bin"]));
        Assert.Equal("absent", StatOf(s["capless/dev/loop200"]));

        // GNU tar reads the archive on tape the same way: it lists the types and numbers and extracts the nodes.
        string archive = s["archive.tar"];
        Tool.Bash($"{Cli.Command} tape cat '{tape}' --file {archiveFile} > '{archive}'");
        var list = Tool.TryRun("/bin/bash", ["-c", $"TZ=UTC LC_ALL=C tar --numeric-owner -tvf '{archive}'"]);
        Assert.True(list.ExitCode == 0, list.Stderr);
        var lines = list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^prw-r----- 12/34 ", Assert.Single(lines, l => l.EndsWith(" dev/fifo", StringComparison.Ordinal)));
        Assert.Matches(@"^brw------- 0/6 +7,200 ", Assert.Single(lines, l => l.EndsWith(" dev/loop200", StringComparison.Ordinal)));
        Assert.Matches(@"^crw-r--r-- 0/0 +300,70000 ", Assert.Single(lines, l => l.EndsWith(" dev/big", StringComparison.Ordinal)));
        Assert.Single(lines, l => l.Contains(" dev/null", StringComparison.Ordinal) && l.StartsWith("crw-rw-rw- 0/0 ", StringComparison.Ordinal));
        Directory.CreateDirectory(s["tar-out"]);
        Tool.TryRun("tar", ["-xpf", archive, "-C", s["tar-out"]]);
        foreach (var p in Specials) Assert.Equal(StatOf(Path.Combine(ro.Path, p)).Split(' ')[..^1], StatOf(Path.Combine(s["tar-out"], p)).Split(' ')[..^1]);
    }
}
