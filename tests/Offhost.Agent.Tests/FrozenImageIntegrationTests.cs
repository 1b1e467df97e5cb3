using System.Diagnostics;
using Offhost.Agent.FrozenImages;
using Offhost.Core.Errors;
using Offhost.Io.FileSystems;
using Offhost.Testing;

namespace Offhost.Agent.Tests;

[Trait("Category", "Integration")]
public class FrozenImageIntegrationTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;
    readonly FrozenImageService _service = new();

    static void RequireAll()
    {
        Requires.Root();
        Requires.Tool("mkfs.ext4");
        Requires.Tool("fsfreeze");
        Requires.Tool("findmnt");
    }

    [Fact]
    public async Task Idle_offline_image_quiesces_and_uses_provider_none()
    {
        RequireAll();
        using var s = new Scratch("frozen-none");
        string img = s["idle.img"];
        Tool.Run("truncate", "-s", "8M", img);
        Tool.Run("mkfs.ext4", "-q", "-F", img);
        var quiesce = new QuiesceOptions { InactivityWindow = TimeSpan.FromMilliseconds(500), Timeout = TimeSpan.FromSeconds(20) };
        await using var image = await _service.CreateAsync(img, new FrozenImageOptions { Quiesce = quiesce }, Ct);
        // /tmp is ext4 here: no reflink, nothing mounted, so auto picks none.
        Assert.Equal(SnapshotProvider.None, image.Provider);
        Assert.Equal(Path.GetFullPath(img), image.SnapshotPath);
        Assert.Equal(0, image.Quiesce.WritesSeen);
        Assert.True(image.Quiesce.Waited >= quiesce.InactivityWindow);
    }

    [Fact]
    public async Task Unmounted_loop_device_gets_provider_none_and_reflink_is_refused_off_xfs()
    {
        RequireAll();
        using var s = new Scratch("frozen-blockdev");
        string img = s["dev.img"];
        Tool.Run("truncate", "-s", "8M", img);
        string dev = Tool.Run("losetup", "-f", "--show", img).Trim();
        try
        {
            var quiesce = new QuiesceOptions { InactivityWindow = TimeSpan.FromMilliseconds(500), Timeout = TimeSpan.FromSeconds(20) };
            await using (var image = await _service.CreateAsync(dev, new FrozenImageOptions { Quiesce = quiesce }, Ct))
            {
                Assert.Equal(SnapshotProvider.None, image.Provider);
                Assert.Equal(dev, image.SnapshotPath);
            }
            var target = FrozenImageTarget.Resolve(dev);
            Assert.Equal(dev, target.DevicePath);
            Assert.Contains(target.Probes(), p => p is BlockDeviceWriteProbe);
            var e = await Assert.ThrowsAsync<UserFacingException>(() => _service.CreateAsync(dev,
                new FrozenImageOptions { Provider = SnapshotProvider.Reflink, Quiesce = QuiesceOptions.Disabled }, Ct));
            Assert.Contains("cannot clone files (FICLONE)", e.Message, StringComparison.Ordinal);
            Assert.Single(Directory.GetFiles(s.Dir));
        }
        finally
        {
            Tool.TryRun("losetup", ["-d", dev]);
        }
    }

    [Fact]
    public void Partition_write_counters_move_with_direct_writes_to_the_partition()
    {
        RequireAll();
        Requires.Tool("sfdisk");
        using var s = new Scratch("frozen-part");
        string img = s["parted.img"];
        Tool.Run("truncate", "-s", "16M", img);
        Tool.RunChecked("sfdisk", ["-q", img], stdin: "label: gpt\nstart=2048, size=8192\n");
        string dev = Tool.Run("losetup", "-f", "-P", "--show", img).Trim();
        try
        {
            string part = dev + "p1";
            for (int i = 0; i < 50 && !File.Exists(part); i++) Thread.Sleep(100);
            if (!File.Exists(part)) Assert.Skip($"{part} did not appear (no partition scanning for loop devices here)");
            var probe = Assert.Single(FrozenImageTarget.Resolve(part).Probes());
            Assert.Contains("/sys/dev/block/", probe.Description, StringComparison.Ordinal);
            var before = probe.Sample();
            Tool.Run("dd", "if=/dev/zero", $"of={part}", "bs=4096", "count=4", "oflag=direct", "status=none");
            var after = probe.Sample();
            Assert.True(after.Detail - before.Detail >= 32, $"sectors written moved by {after.Detail - before.Detail}");
            Assert.True(after.Writes > before.Writes);
        }
        finally
        {
            Tool.TryRun("losetup", ["-d", dev]);
        }
    }

    [Fact]
    public async Task Writes_into_an_offline_image_file_fail_the_quiesce()
    {
        RequireAll();
        using var s = new Scratch("frozen-imgwrites");
        string img = s["busy.img"];
        Tool.Run("truncate", "-s", "8M", img);
        using var writer = LoopMount.Start(
            $"i=0; while :; do i=$((i+1)); dd if=/dev/urandom of='{img}' bs=4096 count=1 seek=$((i % 512)) conv=notrunc status=none; sleep 0.1; done");
        try
        {
            var e = await Assert.ThrowsAsync<QuiesceTimeoutException>(() => _service.CreateAsync(img, new FrozenImageOptions
            {
                Provider = SnapshotProvider.None,
                Quiesce = new QuiesceOptions { InactivityWindow = TimeSpan.FromSeconds(1), Timeout = TimeSpan.FromSeconds(3) },
            }, Ct));
            Assert.Contains("(size, mtime and ctime)", e.Message, StringComparison.Ordinal);
            Assert.True(e.WritesSeen >= 5, e.Message);
        }
        finally
        {
            writer.Kill(entireProcessTree: true);
            writer.WaitForExit();
        }
    }

    [Fact]
    public async Task Idle_mounted_loop_device_quiesces_through_its_sysfs_counters()
    {
        RequireAll();
        using var s = new Scratch("frozen-idle");
        using var m = LoopMount.Ext4(s, "fs");
        FileSystemFreeze.Sync(m.MountPoint);
        var target = FrozenImageTarget.Resolve(m.MountPoint);
        Assert.Equal(m.Device, target.DevicePath);
        Assert.Equal(Path.GetFullPath(m.Image), target.ImagePath);
        Assert.Contains(target.Probes(), p => p is BlockDeviceWriteProbe);
        var r = await Quiescer.WaitForInactivityAsync(target.Probes(),
            new QuiesceOptions { InactivityWindow = TimeSpan.FromSeconds(1), Timeout = TimeSpan.FromSeconds(30) }, Ct);
        Assert.True(r.Waited >= TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Constant_writes_fail_the_quiesce_and_leave_nothing_frozen()
    {
        RequireAll();
        using var s = new Scratch("frozen-busy");
        using var m = LoopMount.Ext4(s, "fs");
        using var writer = LoopMount.Start(
            $"i=0; while :; do i=$((i+1)); dd if=/dev/zero of='{m.MountPoint}/busy' bs=4096 count=1 seek=$((i % 64)) oflag=direct conv=notrunc status=none; sleep 0.05; done");
        try
        {
            var options = new FrozenImageOptions
            {
                Provider = SnapshotProvider.Freeze,
                Quiesce = new QuiesceOptions { InactivityWindow = TimeSpan.FromSeconds(1), Timeout = TimeSpan.FromSeconds(3) },
            };
            var e = await Assert.ThrowsAsync<QuiesceTimeoutException>(() => _service.CreateAsync(m.MountPoint, options, Ct));
            Assert.Contains(m.Device, e.Message, StringComparison.Ordinal);
            Assert.Contains("was never idle for 1 s within 3", e.Message, StringComparison.Ordinal);
            Assert.True(e.WritesSeen > 5, e.Message);
            Assert.True(m.CanWrite(TimeSpan.FromSeconds(20)), "file system must not be frozen after a failed quiesce");
            Assert.False(writer.HasExited);
        }
        finally
        {
            writer.Kill(entireProcessTree: true);
            writer.WaitForExit();
        }
    }

    [Fact]
    public async Task Buffered_writes_that_never_reach_the_device_on_their_own_still_fail_the_quiesce()
    {
        RequireAll();
        using var s = new Scratch("frozen-buffered");
        using var m = LoopMount.Ext4(s, "fs");
        // Page-cache writes only: without a sync they would reach the device at write-back, long after the window.
        using var writer = LoopMount.Start($"i=0; while :; do i=$((i+1)); echo $i >> '{m.MountPoint}/log'; sleep 0.3; done");
        try
        {
            var target = FrozenImageTarget.Resolve(m.MountPoint);
            var e = await Assert.ThrowsAsync<QuiesceTimeoutException>(() => Quiescer.WaitForInactivityAsync(target.Probes(),
                new QuiesceOptions { InactivityWindow = TimeSpan.FromSeconds(1.5), Timeout = TimeSpan.FromSeconds(5) }, Ct));
            Assert.True(e.WritesSeen >= 3, e.Message);
        }
        finally
        {
            writer.Kill(entireProcessTree: true);
            writer.WaitForExit();
        }
    }

    [Fact]
    public async Task Freeze_blocks_writers_until_release()
    {
        RequireAll();
        using var s = new Scratch("frozen-freeze");
        using var m = LoopMount.Ext4(s, "fs");
        var image = await _service.CreateAsync(m.MountPoint,
            new FrozenImageOptions { Provider = SnapshotProvider.Freeze, Quiesce = QuiesceOptions.Disabled }, Ct);
        Process? writer = null;
        try
        {
            Assert.Equal(SnapshotProvider.Freeze, image.Provider);
            Assert.Equal(m.Device, image.SnapshotPath);
            Assert.Equal([Path.GetFullPath(m.MountPoint)], image.FrozenMountPoints);
            writer = LoopMount.Start($"echo after-thaw > '{m.MountPoint}/late' && sync");
            Assert.False(writer.WaitForExit(1500), "a write went through a frozen file system");
        }
        finally
        {
            await image.DisposeAsync();
        }
        Assert.True(writer!.WaitForExit(20_000), "writer still blocked after release");
        Assert.Equal(0, writer.ExitCode);
        Assert.Equal("after-thaw\n", File.ReadAllText(Path.Combine(m.MountPoint, "late")));
        Assert.Empty(image.FrozenMountPoints);
        writer.Dispose();
    }

    [Fact]
    public async Task Watchdog_survives_terminal_signals_and_exits_on_release()
    {
        RequireAll();
        using var s = new Scratch("frozen-guard");
        using var m = LoopMount.Ext4(s, "fs");
        using var guard = await FreezeGuard.StartAsync([m.MountPoint], TimeSpan.FromMinutes(5), Ct);
        foreach (string sig in new[] { "INT", "TERM", "HUP", "QUIT" }) Tool.Run("kill", $"-{sig}", guard.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Task.Delay(500, Ct);
        Assert.True(Directory.Exists($"/proc/{guard.ProcessId}"), "watchdog died from a terminal signal");
        await guard.ReleaseAsync();
        Assert.False(Directory.Exists($"/proc/{guard.ProcessId}") && !File.ReadAllText($"/proc/{guard.ProcessId}/stat").Contains(" Z ", StringComparison.Ordinal),
            "watchdog still running after release");
    }

    [Fact]
    public async Task Bind_mounted_file_system_is_frozen_once()
    {
        RequireAll();
        using var s = new Scratch("frozen-bind");
        using var m = LoopMount.Ext4(s, "fs");
        string bind = s["bind"];
        Directory.CreateDirectory(bind);
        Tool.Run("mount", "--bind", m.MountPoint, bind);
        try
        {
            await using (var image = await _service.CreateAsync(bind,
                new FrozenImageOptions { Provider = SnapshotProvider.Freeze, Quiesce = QuiesceOptions.Disabled }, Ct))
            {
                Assert.Single(image.FrozenMountPoints);
                Assert.False(m.CanWrite(TimeSpan.FromSeconds(1)));
            }
            Assert.True(m.CanWrite(TimeSpan.FromSeconds(20)));
        }
        finally
        {
            Tool.TryRun("fsfreeze", ["-u", bind]);
            Tool.TryRun("umount", [bind]);
        }
    }

    [Fact]
    public async Task Max_freeze_thaws_and_signals_expiry()
    {
        RequireAll();
        using var s = new Scratch("frozen-expiry");
        using var m = LoopMount.Ext4(s, "fs");
        await using var image = await _service.CreateAsync(m.MountPoint,
            new FrozenImageOptions { Provider = SnapshotProvider.Freeze, Quiesce = QuiesceOptions.Disabled, MaxFreeze = TimeSpan.FromSeconds(2) }, Ct);
        var expired = new TaskCompletionSource();
        using var reg = image.Expired.Register(() => expired.TrySetResult());
        await expired.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.True(m.CanWrite(TimeSpan.FromSeconds(20)), "file system still frozen after the maximum freeze duration");
    }

    [Fact]
    public async Task Sigkill_of_the_freezing_process_leaves_the_file_system_thawed()
    {
        RequireAll();
        using var s = new Scratch("frozen-kill");
        using var m = LoopMount.Ext4(s, "fs");
        string marker = s["frozen"];
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true };
        foreach (var a in new[] { "exec", typeof(FreezingChild).Assembly.Location, FreezingChild.Verb, m.MountPoint, marker }) psi.ArgumentList.Add(a);
        using var child = Process.Start(psi)!;
        var stderr = child.StandardError.ReadToEndAsync(Ct);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (!File.Exists(marker) && !child.HasExited && DateTime.UtcNow < deadline) await Task.Delay(50, Ct);
            Assert.False(child.HasExited, "child ended early: " + (child.HasExited ? await stderr : ""));
            Assert.True(File.Exists(marker), "child did not freeze within 90 s");
            Assert.False(m.CanWrite(TimeSpan.FromSeconds(1)), "file system is not frozen while the child holds it");
        }
        finally
        {
            child.Kill(); // SIGKILL, this process only: the watchdog must notice on its own.
            await child.WaitForExitAsync(Ct);
        }
        Assert.True(m.CanWrite(TimeSpan.FromSeconds(10)), "file system still frozen 10 s after its freezer was killed");
    }

    [Fact]
    public async Task Provider_none_refuses_a_mounted_source_and_freeze_an_unmounted_one()
    {
        RequireAll();
        using var s = new Scratch("frozen-refuse");
        using var m = LoopMount.Ext4(s, "fs");
        var e = await Assert.ThrowsAsync<UserFacingException>(() => _service.CreateAsync(m.Image,
            new FrozenImageOptions { Provider = SnapshotProvider.None, Quiesce = QuiesceOptions.Disabled }, Ct));
        Assert.Contains("mounted read-write at", e.Message, StringComparison.Ordinal);
        string other = s["other.img"];
        Tool.Run("truncate", "-s", "1M", other);
        await Assert.ThrowsAsync<UserFacingException>(() => _service.CreateAsync(other,
            new FrozenImageOptions { Provider = SnapshotProvider.Freeze, Quiesce = QuiesceOptions.Disabled }, Ct));
        // Auto on a mounted image on a file system without reflink: freeze.
        await using var auto = await _service.CreateAsync(m.Image, new FrozenImageOptions { Quiesce = QuiesceOptions.Disabled }, Ct);
        Assert.Equal(SnapshotProvider.Freeze, auto.Provider);
    }

    [Fact]
    public async Task Fiemap_of_a_file_on_a_frozen_loop_mount_points_at_its_bytes_in_the_image()
    {
        RequireAll();
        using var s = new Scratch("frozen-fiemap");
        using var m = LoopMount.Ext4(s, "fs");
        byte[] data = TestData.Random(7, 3 * 1024 * 1024 + 1234);
        string file = Path.Combine(m.MountPoint, "data.bin");
        await File.WriteAllBytesAsync(file, data, Ct);
        // A sparse file with a hole and an unwritten (fallocated) range.
        string sparse = Path.Combine(m.MountPoint, "sparse.bin");
        Tool.Bash($"dd if=/dev/urandom of='{sparse}' bs=4096 count=2 status=none; fallocate -o 65536 -l 65536 '{sparse}'; dd if=/dev/urandom of='{sparse}' bs=4096 seek=64 count=1 conv=notrunc status=none");
        await using var image = await _service.CreateAsync(m.MountPoint,
            new FrozenImageOptions { Provider = SnapshotProvider.Freeze, Quiesce = QuiesceOptions.Disabled }, Ct);

        var extents = FiemapMapper.MapExtentsOf(file, 4096);
        Assert.Equal(data.Length, extents.Sum(e => e.LengthBytes));
        using var img = File.OpenHandle(m.Image);
        foreach (var e in extents)
        {
            Assert.Equal(Core.Mapping.ExtentKind.Data, e.Kind);
            byte[] onDisk = new byte[e.LengthBytes];
            RandomAccess.Read(img, onDisk, e.Lba * 4096);
            Assert.True(onDisk.AsSpan().SequenceEqual(data.AsSpan((int)e.OffsetBytes, (int)e.LengthBytes)), $"extent at {e.OffsetBytes} differs");
        }

        var raw = FiemapMapper.MapFile(sparse);
        Assert.Contains(raw, e => (e.Flags & FiemapExtentFlags.Unwritten) != 0);
        Assert.True((raw[^1].Flags & FiemapExtentFlags.Last) != 0);
        long size = new FileInfo(sparse).Length;
        var sparseMap = FiemapMapper.ToMapExtents(raw, size, 4096, sparse);
        byte[] expected = await File.ReadAllBytesAsync(sparse, Ct);
        byte[] rebuilt = new byte[size];
        foreach (var e in sparseMap.Where(e => e.Kind == Core.Mapping.ExtentKind.Data))
            RandomAccess.Read(img, rebuilt.AsSpan((int)e.OffsetBytes, (int)e.LengthBytes), e.Lba * 4096);
        Assert.Equal(expected, rebuilt);
        Assert.Contains(sparseMap, e => e.Kind == Core.Mapping.ExtentKind.Zero && e.OffsetBytes == 8192);
    }
}
