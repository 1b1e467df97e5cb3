using System.Text.Json;
using Offhost.Catalog;
using Offhost.Core.Errors;
using Offhost.Io.Block;
using Offhost.Io.Tape;
using Offhost.Scsi.Identification;
using Offhost.Server.Backup;
using Offhost.Server.Remote;
using Offhost.Testing;

namespace Offhost.TwoHosts.Tests;

/// <summary>
/// The acceptance test of the two-host deployment: the agent runs as <c>offhost agent</c> in the application host's
/// network namespace with an ext4 file system (mounted, frozen by the agent) and an NTFS volume (offline) on loop
/// devices; the backup and the mover run in the backup host's namespace and read the same loop devices themselves.
/// </summary>
[Trait("Category", "Integration")]
public class TwoHostsTests
{
    const int Port = 7443;
    static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "offhost.dll");

    static void RequireTools()
    {
        Requires.Root();
        Requires.Tool("ip");
        Requires.Tool("openssl");
        Requires.Tool("losetup");
        Requires.Tool("fsfreeze");
        NtfsVolumeBuilder.RequireTools();
    }

    static string Cli(params string[] args)
    {
        var r = Tool.TryRun("dotnet", [Dll, .. args], timeout: TimeSpan.FromMinutes(10));
        if (r.ExitCode != 0) throw new InvalidOperationException($"offhost {string.Join(' ', args)} exited {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
        return r.Stdout;
    }

    /// <summary>Restores a whole backup into <paramref name="to"/>. NTFS attributes and creation times have no place on the
    /// scratch directory's file system, so "incomplete" (3) is accepted for them and for nothing else.</summary>
    static void RestoreAll(string backupId, string to, string catalog)
    {
        var r = Tool.TryRun("dotnet", [Dll, "restore", backupId, "--to", to, "--catalog", catalog], timeout: TimeSpan.FromMinutes(10));
        var notRestored = r.Stdout.Split('\n').Where(l => l.Contains("not restored", StringComparison.Ordinal)).ToList();
        bool onlyNtfsAttributes = notRestored.All(l => l.Contains("NTFS attributes and creation times", StringComparison.Ordinal));
        Assert.True(r.ExitCode == 0 || (r.ExitCode == 3 && onlyNtfsAttributes), $"restore exited {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
    }

    /// <summary>An ext4 file system mounted read-write on the app host and an offline NTFS volume, both with data.</summary>
    sealed class Volumes : IDisposable
    {
        public Volumes(Scratch s)
        {
            Ext4 = Loop.Ext4(s, "ext", sizeMiB: 96);
            Ntfs = Loop.Ntfs(s, "ntfs", sizeMiB: 48);
            Ntfs.Change("""
                mkdir -p docs/deep
                for i in $(seq 1 12); do head -c $((1000000 + i * 4096)) /dev/urandom > docs/part$i.bin; done
                echo "resident" > docs/deep/small.txt
                head -c 3000000 /dev/urandom > rewrite.bin
                head -c 2000000 /dev/urandom > recreate.bin
                head -c 1500000 /dev/urandom > keep.bin
                """, ntfs: true);
            Ext4Mount = s["ext4-mnt"];
            Directory.CreateDirectory(Ext4Mount);
            Tool.Run("mount", Ext4.Device, Ext4Mount);
            Tool.Bash($"""
                cd '{Ext4Mount}'
                mkdir -p a/b
                for i in $(seq 1 30); do head -c $((900000 + i * 1000)) /dev/urandom > a/f$i.bin; done
                printf 'inline' > a/b/tiny
                ln a/f1.bin a/b/hardlink
                ln -s ../f2.bin a/b/symlink
                sync
                """);
        }

        public Loop Ext4 { get; }
        public Loop Ntfs { get; }
        public string Ext4Mount { get; }

        public static long DataBytes(string dir) =>
            Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

        public bool Ext4Writable(TimeSpan timeout)
        {
            var psi = new System.Diagnostics.ProcessStartInfo("dd") { UseShellExecute = false, RedirectStandardError = true };
            foreach (var a in new[] { "if=/dev/zero", $"of={Ext4Mount}/.probe-{Guid.NewGuid():N}", "bs=4096", "count=1", "oflag=direct", "status=none" }) psi.ArgumentList.Add(a);
            // A blocked writer is left behind on purpose: it finishes once the file system is thawed.
            using var p = System.Diagnostics.Process.Start(psi)!;
            return p.WaitForExit(timeout) && p.ExitCode == 0;
        }

        public void Dispose()
        {
            Tool.TryRun("fsfreeze", ["-u", Ext4Mount]);
            Tool.TryRun("umount", [Ext4Mount]);
            Ext4.Dispose();
            Ntfs.Dispose();
        }
    }

    [Fact]
    public void Backup_across_two_hosts_restores_byte_for_byte_moves_no_file_data_over_the_network_and_refuses_a_client_without_the_token()
    {
        RequireTools();
        using var s = new Scratch("two-hosts");
        using var net = new TwoHostNetwork();
        var pki = new Pki(s, net.AppIp);
        using var volumes = new Volumes(s);
        using var agent = new AgentProcess(net, pki, Port);
        string tape = s["t.tap"], catalog = s["catalog.db"];
        Cli("tape", "new", tape, "--capacity", "1G", "--label", "TWO001");

        // Without the token (wrong token, then a token file the agent never saw): refused before anything is frozen.
        File.WriteAllText(s["wrong.token"], new string('0', 64));
        var refused = TwoHostNetwork.RunIn(net.Backup, "dotnet", Dll, "backup", "--agent", agent.Address.ToString(), "--agent-ca", pki.CaCert,
            "--agent-token-file", s["wrong.token"], "--tape", tape, "--catalog", catalog, "--quiesce", "0", volumes.Ext4Mount);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("refused", refused.Stderr, StringComparison.Ordinal);
        Assert.True(volumes.Ext4Writable(TimeSpan.FromSeconds(10)));

        long before = net.AppInterfaceBytes();
        var run = TwoHostNetwork.RunIn(net.Backup, "dotnet", Dll, "backup", "--agent", agent.Address.ToString(), "--agent-ca", pki.CaCert,
            "--agent-token-file", pki.TokenFile, "--tape", tape, "--catalog", catalog, "--quiesce", "0", "--json",
            volumes.Ext4Mount, volumes.Ntfs.Device);
        long networkBytes = net.AppInterfaceBytes() - before;
        Assert.True(run.ExitCode == 0, $"backup failed ({run.ExitCode}):\n{run.Stderr}\nagent:\n{agent.Output}");
        var result = JsonDocument.Parse(run.Stdout).RootElement;
        string backupId = result.GetProperty("backup_id").GetString()!;
        Assert.Equal("freeze+none", result.GetProperty("snapshot").GetString());
        Assert.True(volumes.Ext4Writable(TimeSpan.FromSeconds(10)), "the ext4 file system stayed frozen after the backup");

        // The network carried metadata only: under 1% of the file data backed up.
        long dataBytes = result.GetProperty("data_bytes").GetInt64();
        Assert.True(dataBytes > 40L << 20, $"only {dataBytes} bytes of data backed up");
        Assert.True(networkBytes * 100 < dataBytes, $"{networkBytes} bytes crossed the application host's veth for {dataBytes} bytes of file data");
        Assert.True(networkBytes > 0);
        TestContext.Current.TestOutputHelper?.WriteLine($"veth bytes {networkBytes} for {dataBytes} bytes of file data: {100.0 * networkBytes / dataBytes:0.000}%");

        // Byte for byte: restore everything and compare with both file systems.
        RestoreAll(backupId, s["out"], catalog);
        int ext4Files = TreeCompare.AssertSame(volumes.Ext4Mount, s["out/vol1"], new TreeCompare.Options
        {
            CompareModes = true,
            Ignore = rel => rel.StartsWith("lost+found", StringComparison.Ordinal) || rel.StartsWith(".probe-", StringComparison.Ordinal),
        });
        Assert.True(ext4Files >= 33, $"only {ext4Files} ext4 files compared");
        var ntfsNow = volumes.Ntfs.Files(ntfs: true);
        Assert.True(ntfsNow.Count >= 16);
        foreach (var (path, bytes) in ntfsNow)
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(s["out/vol2" + path])), $"{path} restored differently");

        Assert.DoesNotContain(pki.Token, agent.Output, StringComparison.Ordinal);
        Assert.Contains("frozen image", agent.Output, StringComparison.Ordinal);
    }

    /// <summary>The backup host's side in this process, its TCP connections opened in the backup namespace.</summary>
    static async Task<BackupJobResult> BackupInProcessAsync(TwoHostNetwork net, Pki pki, Uri agent, string target, string tapePath, Catalog.Catalog catalog,
        Action<string> phase, string provider = "auto")
    {
        using var connection = new AgentConnection(new AgentConnectionOptions
        {
            Address = agent,
            Token = pki.Token,
            CaCertificatePath = pki.CaCert,
            Connect = net.ConnectFromBackupAsync,
        });
        await using var tape = SimhTapeDevice.Open(tapePath, writable: true);
        await tape.SpaceAsync(Core.Devices.SpaceUnit.EndOfData, 1, CancellationToken.None);
        var freezer = new AgentFrozenSources(connection, new RemoteImageRequest("") { Provider = provider, SkipQuiesce = true }, []);
        var request = new BackupJobRequest([new BackupTarget(target)], freezer, OpenAsync, tape,
            NaaDesignator.Naa6FromIdentity("tape:" + tape.Label!.VolumeUuid), tape.Label!, tapePath, catalog);
        return await BackupJob.RunAsync(request, null, phase, CancellationToken.None);

        static Task<OpenedSource> OpenAsync(string path, CancellationToken ct)
        {
            var device = FileBlockDevice.Open(path);
            var source = new FileBlockSource(path, device.DeviceId);
            return Task.FromResult(new OpenedSource(source, device, device.NaaDesignator, new Closer(device, source)));
        }
    }

    sealed class Closer(FileBlockDevice device, FileBlockSource source) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await device.DisposeAsync();
            source.Dispose();
        }
    }

    [Fact]
    public async Task Writes_between_map_and_copy_change_the_configuration_id_and_only_the_changed_files_are_remapped()
    {
        RequireTools();
        using var s = new Scratch("two-hosts-remap");
        using var net = new TwoHostNetwork();
        var pki = new Pki(s, net.AppIp);
        using var volumes = new Volumes(s);
        using var agent = new AgentProcess(net, pki, Port);
        string tape = s["t.tap"];
        Cli("tape", "new", tape, "--capacity", "1G", "--label", "TWO002");
        using var catalog = Catalog.Catalog.Open(s["catalog.db"]);

        // The NTFS volume is offline (provider none); someone mounts it and writes after the map, before the copy.
        var result = await BackupInProcessAsync(net, pki, agent.Address, volumes.Ntfs.Device, tape, catalog, phase =>
        {
            if (phase != "Checking the configuration ID") return;
            volumes.Ntfs.Change("""
                dd if=/dev/urandom of=rewrite.bin bs=4096 count=64 seek=10 conv=notrunc status=none
                rm recreate.bin && head -c 2500000 /dev/urandom > recreate.bin
                """, ntfs: true);
        });

        var record = catalog.GetBackup(result.BackupId)!;
        Assert.Equal(BackupStatus.Good, record.Status);
        Assert.True(record.Remapped);
        string details = record.RemapDetails!;
        // Exactly the two files written (and the root directory that holds them) were remapped; nothing else.
        int open = details.IndexOf("changed: [", StringComparison.Ordinal) + "changed: [".Length;
        var changed = details[open..details.IndexOf(']', open)].Split(", ", StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        Assert.True(changed.SetEquals(["1:/rewrite.bin", "1:/recreate.bin", "1:/"]), details);

        // The restored files are the state the remap describes: the files as they are now.
        RestoreAll(result.BackupId, s["out"], s["catalog.db"]);
        var now = volumes.Ntfs.Files(ntfs: true);
        foreach (var (path, bytes) in now)
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(s["out" + path])), $"{path} restored differently from the remapped state");
    }

    [Fact]
    public async Task Agent_killed_mid_backup_fails_the_backup_cleanly_and_the_watchdog_thaws_the_file_system()
    {
        RequireTools();
        using var s = new Scratch("two-hosts-kill");
        using var net = new TwoHostNetwork();
        var pki = new Pki(s, net.AppIp);
        using var volumes = new Volumes(s);
        using var agent = new AgentProcess(net, pki, Port);
        string tape = s["t.tap"];
        Cli("tape", "new", tape, "--capacity", "1G", "--label", "TWO003");
        using var catalog = Catalog.Catalog.Open(s["catalog.db"]);
        bool frozenWhenKilled = false;

        var e = await Assert.ThrowsAsync<UserFacingException>(() => BackupInProcessAsync(net, pki, agent.Address, volumes.Ext4Mount, tape, catalog, phase =>
        {
            if (phase != "Copying") return;
            frozenWhenKilled = !volumes.Ext4Writable(TimeSpan.FromSeconds(2));
            agent.Kill();
        }, provider: "freeze"));

        Assert.True(frozenWhenKilled, "the file system was not frozen while the copy started");
        Assert.True(volumes.Ext4Writable(TimeSpan.FromSeconds(20)), "the watchdog did not thaw the file system after the agent was killed");
        var backup = Assert.Single(catalog.ListBackups());
        Assert.Equal(BackupStatus.Failed, backup.Status);
        Assert.Contains("agent", e.Message, StringComparison.Ordinal);
        // No index on the tape: nothing there looks like a complete backup.
        string ls = Cli("tape", "ls", tape);
        Assert.DoesNotContain("index", ls, StringComparison.OrdinalIgnoreCase);
    }
}
