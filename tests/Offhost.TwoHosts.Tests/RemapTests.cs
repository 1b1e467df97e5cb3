using Offhost.Core.Errors;
using Offhost.Server.Remote;
using Offhost.Testing;

namespace Offhost.TwoHosts.Tests;

/// <summary>
/// The configuration ID against real file systems changed behind an image (provider none: an offline volume that
/// someone mounts and writes between map and copy). Each case checks that the ID changes, that the remap names exactly
/// the files that changed, and that the map with the remap applied reads, from the device, as the files are now.
/// </summary>
[Trait("Category", "Integration")]
public class RemapTests
{
    static void RequireTools()
    {
        Requires.Root();
        Requires.Tool("mkfs.ext4");
        Requires.Tool("losetup");
        Requires.Tool("openssl");
    }

    const string Ext4Seed = """
        head -c 300000 /dev/urandom > keep.bin
        head -c 200000 /dev/urandom > rewrite.bin
        head -c 90000 /dev/urandom > shrink.bin
        head -c 150000 /dev/urandom > recreate.bin
        head -c 64000 /dev/urandom > append.bin
        mkdir -p dir && head -c 70000 /dev/urandom > dir/inner.bin
        echo small > tiny.txt
        """;

    static async Task<(RemoteImageSession Session, RemoteMap Map)> MapAsync(AgentConnection c, Loop loop)
    {
        var session = await RemoteImageSession.CreateAsync(c, new RemoteImageRequest(loop.Device) { Provider = "none", SkipQuiesce = true }, CancellationToken.None);
        var map = await session.FetchMapAsync(CancellationToken.None);
        Assert.Equal(session.Image.ConfigurationId, map.ConfigurationId);
        return (session, map);
    }

    [Fact]
    public async Task Unchanged_image_keeps_its_configuration_id_and_the_map_reads_as_the_files()
    {
        RequireTools();
        using var s = new Scratch("cfg-same");
        await using var agent = await InProcessAgent.StartAsync(s);
        using var loop = Loop.Ext4(s, "ext");
        loop.Change(Ext4Seed);
        using var c = agent.Connect();
        var (session, map) = await MapAsync(c, loop);
        await using (session)
        {
            Assert.Equal(map.ConfigurationId, (await session.GetConfigurationIdAsync(CancellationToken.None)).ConfigurationId);
            Assert.Empty(await session.EnsureCurrentAsync(map, CancellationToken.None));
            await session.VerifyUnchangedAsync(map, CancellationToken.None);
        }
        MapRead.AssertMapDescribes(loop.Device, map, loop.Files());
    }

    [Theory]
    [InlineData("rewrite in place", "dd if=/dev/urandom of=rewrite.bin bs=4096 count=10 seek=5 conv=notrunc status=none", "/rewrite.bin")]
    [InlineData("truncate and extend", "truncate -s 4096 shrink.bin && head -c 120000 /dev/urandom >> shrink.bin", "/shrink.bin")]
    [InlineData("delete and recreate under the same name", "rm recreate.bin && head -c 150000 /dev/urandom > recreate.bin", "/recreate.bin")]
    [InlineData("extend", "head -c 300000 /dev/urandom >> append.bin", "/append.bin")]
    [InlineData("relocate by copy and rename", "cp dir/inner.bin dir/.tmp && mv dir/.tmp dir/inner.bin", "/dir/inner.bin")]
    public async Task A_change_between_map_and_copy_changes_the_id_and_the_remap_holds_exactly_the_changed_file(string what, string script, string changed)
    {
        RequireTools();
        using var s = new Scratch("cfg-change");
        await using var agent = await InProcessAgent.StartAsync(s);
        using var loop = Loop.Ext4(s, "ext");
        loop.Change(Ext4Seed);
        using var c = agent.Connect();
        var (session, map) = await MapAsync(c, loop);
        await using (session)
        {
            string before = map.ConfigurationId;
            loop.Change(script);
            var now = await session.GetConfigurationIdAsync(CancellationToken.None);
            Assert.NotEqual(before, now.ConfigurationId);
            Assert.False(now.Held);

            var remaps = await session.EnsureCurrentAsync(map, CancellationToken.None);
            var remap = Assert.Single(remaps);
            var files = remap.Changed.Where(x => x.Entry.Kind == Core.Mapping.MapEntryKind.File).Select(x => x.Entry.Path).ToList();
            Assert.True(files.SequenceEqual([changed]), $"{what}: remap named [{string.Join(", ", files)}], expected [{changed}]");
            Assert.DoesNotContain(remap.Changed, x => x.Entry.Path is "/keep.bin" or "/tiny.txt");
            Assert.NotEqual(before, map.ConfigurationId);
            await session.VerifyUnchangedAsync(map, CancellationToken.None);
        }
        MapRead.AssertMapDescribes(loop.Device, map, loop.Files());
    }

    [Fact]
    public async Task Relocation_by_e4defrag_keeps_the_inode_and_the_remap_follows_the_blocks()
    {
        RequireTools();
        Requires.Tool("e4defrag");
        using var s = new Scratch("cfg-defrag");
        await using var agent = await InProcessAgent.StartAsync(s);
        using var loop = Loop.Ext4(s, "ext");
        // Two files written interleaved are fragmented; e4defrag moves one's blocks (same inode, same times).
        loop.Change("""
            for i in $(seq 1 24); do head -c 8192 /dev/urandom >> frag.bin; sync; head -c 8192 /dev/urandom >> other.bin; sync; done
            """);
        using var c = agent.Connect();
        var (session, map) = await MapAsync(c, loop);
        await using (session)
        {
            var before = map.Volumes[0].EntryList.Single(e => e.Path == "/frag.bin");
            loop.Change("e4defrag frag.bin > /dev/null || true");
            var remaps = await session.EnsureCurrentAsync(map, CancellationToken.None);
            var after = map.Volumes[0].EntryList.Single(e => e.Path == "/frag.bin");
            bool moved = !before.Streams[0].Extents.SequenceEqual(after.Streams[0].Extents);
            if (moved) Assert.Contains(remaps.SelectMany(r => r.Changed), x => x.Entry.Path == "/frag.bin");
            Assert.Equal(before.Id, after.Id);
        }
        MapRead.AssertMapDescribes(loop.Device, map, loop.Files());
    }

    [Fact]
    public async Task Ntfs_rewrite_and_recreate_are_remapped_and_the_map_reads_as_the_files()
    {
        RequireTools();
        NtfsVolumeBuilder.RequireTools();
        using var s = new Scratch("cfg-ntfs");
        await using var agent = await InProcessAgent.StartAsync(s);
        using var loop = Loop.Ntfs(s, "ntfs");
        loop.Change(Ext4Seed, ntfs: true);
        using var c = agent.Connect();
        var (session, map) = await MapAsync(c, loop);
        await using (session)
        {
            loop.Change("""
                dd if=/dev/urandom of=rewrite.bin bs=4096 count=4 seek=2 conv=notrunc status=none
                rm recreate.bin && head -c 150000 /dev/urandom > recreate.bin
                rm tiny.txt
                """, ntfs: true);
            var remap = Assert.Single(await session.EnsureCurrentAsync(map, CancellationToken.None));
            var files = remap.Changed.Where(x => x.Entry.Kind == Core.Mapping.MapEntryKind.File).Select(x => x.Entry.Path).Order().ToList();
            Assert.Equal(["/recreate.bin", "/rewrite.bin"], files);
            Assert.Contains((1, "/tiny.txt"), remap.Removed);
        }
        MapRead.AssertMapDescribes(loop.Device, map, loop.Files(ntfs: true));
    }

    [Fact]
    public async Task Released_and_retaken_image_has_a_new_id_and_a_released_image_is_gone()
    {
        RequireTools();
        using var s = new Scratch("cfg-retake");
        await using var agent = await InProcessAgent.StartAsync(s);
        using var loop = Loop.Ext4(s, "ext");
        using var c = agent.Connect();
        var (first, map1) = await MapAsync(c, loop);
        await first.ReleaseAsync(CancellationToken.None);
        var e = await Assert.ThrowsAsync<UserFacingException>(() => first.GetConfigurationIdAsync(CancellationToken.None));
        Assert.Contains("NotFound", e.Message, StringComparison.Ordinal);
        var (second, map2) = await MapAsync(c, loop);
        await using (second) Assert.NotEqual(map1.ConfigurationId, map2.ConfigurationId);
    }

    [Fact]
    public async Task Agent_refuses_calls_without_the_token_and_never_logs_it()
    {
        RequireTools();
        using var s = new Scratch("cfg-auth");
        await using var agent = await InProcessAgent.StartAsync(s);
        using var loop = Loop.Ext4(s, "ext");
        using (var wrong = agent.Connect(token: new string('x', 64)))
        {
            var e = await Assert.ThrowsAsync<UserFacingException>(() => RemoteImageSession.CreateAsync(wrong, new RemoteImageRequest(loop.Device) { Provider = "none" }, CancellationToken.None));
            Assert.Contains("refused", e.Message, StringComparison.Ordinal);
        }
        using (var none = agent.Connect(token: ""))
        {
            var e = await Assert.ThrowsAsync<UserFacingException>(() => RemoteImageSession.CreateAsync(none, new RemoteImageRequest(loop.Device) { Provider = "none" }, CancellationToken.None));
            Assert.Contains("refused", e.Message, StringComparison.Ordinal);
        }
        // A client that does not trust the agent's CA does not even send its token.
        using var otherScratch = new Scratch("other-ca");
        var otherPki = new Pki(otherScratch, "127.0.0.1");
        using (var untrusting = agent.Connect(ca: otherPki.CaCert))
            await Assert.ThrowsAsync<UserFacingException>(() => RemoteImageSession.CreateAsync(untrusting, new RemoteImageRequest(loop.Device) { Provider = "none" }, CancellationToken.None));
        Assert.DoesNotContain(agent.LogLines, l => l.Contains("frozen image", StringComparison.Ordinal));

        using var good = agent.Connect();
        await using (var session = await RemoteImageSession.CreateAsync(good, new RemoteImageRequest(loop.Device) { Provider = "none", SkipQuiesce = true }, CancellationToken.None)) { }
        Assert.NotEmpty(agent.LogLines);
        Assert.DoesNotContain(agent.LogLines, l => l.Contains(agent.Pki.Token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Agent_images_only_allowed_targets_and_a_symbolic_link_does_not_lead_out()
    {
        RequireTools();
        using var s = new Scratch("cfg-allow");
        string allowed = s["allowed"];
        Directory.CreateDirectory(allowed);
        using var inside = Loop.Ext4(s, "allowed/inside");
        using var outside = Loop.Ext4(s, "outside");
        File.CreateSymbolicLink(Path.Combine(allowed, "link.img"), outside.Image);
        await using var agent = await InProcessAgent.StartAsync(s, [allowed]);
        using var c = agent.Connect();
        foreach (var target in new[] { outside.Image, outside.Device, Path.Combine(allowed, "link.img") })
        {
            var e = await Assert.ThrowsAsync<UserFacingException>(() =>
                RemoteImageSession.CreateAsync(c, new RemoteImageRequest(target) { Provider = "none", SkipQuiesce = true }, CancellationToken.None));
            Assert.Contains("PermissionDenied", e.Message, StringComparison.Ordinal);
        }
        await using var ok = await RemoteImageSession.CreateAsync(c, new RemoteImageRequest(inside.Image) { Provider = "none", SkipQuiesce = true }, CancellationToken.None);
        Assert.Equal("none", ok.Image.Provider);
    }

    [Fact]
    public async Task Device_is_found_by_identity_under_another_name_and_a_wrong_device_is_refused()
    {
        RequireTools();
        using var s = new Scratch("cfg-ident");
        await using var agent = await InProcessAgent.StartAsync(s);
        using var loop = Loop.Ext4(s, "ext");
        using var sameLun = new Loop(loop.Image);          // the same LUN under another name
        using var otherFs = Loop.Ext4(s, "other");         // same size, another file system
        using var c = agent.Connect();
        var (session, map) = await MapAsync(c, loop);
        await using (session)
        {
            Assert.Equal(sameLun.Device, DeviceResolver.Resolve(map.Volumes, [sameLun.Device]));
            var e = Assert.Throws<UserFacingException>(() => DeviceResolver.Resolve(map.Volumes, [otherFs.Device]));
            Assert.Contains("refusing to read", e.Message, StringComparison.Ordinal);
            Assert.Contains("file-system id", e.Message, StringComparison.Ordinal);
            Assert.Equal(sameLun.Device, DeviceResolver.Resolve(map.Volumes, [otherFs.Device, sameLun.Device]));
            // Scanning every device finds both names of the LUN: ambiguous, so refused rather than guessed.
            var both = Assert.Throws<UserFacingException>(() => DeviceResolver.Resolve(map.Volumes, []));
            Assert.Contains("--lun", both.Message, StringComparison.Ordinal);
        }
    }
}

/// <summary>The snapshot's own storage is part of the configuration ID: a reflink clone that moves changes it.</summary>
[Trait("Category", "Integration")]
public class SnapshotStorageTests
{
    [Fact]
    public async Task Reflink_clone_whose_storage_moves_changes_the_configuration_id()
    {
        Requires.Root();
        Requires.Tool("mkfs.xfs");
        Requires.Tool("mkfs.ext4");
        Requires.Tool("openssl");
        using var s = new Scratch("cfg-reflink");
        await using var agent = await InProcessAgent.StartAsync(s);
        string xfsImage = s["xfs.img"], xfsMount = s["xfs"];
        Tool.Run("truncate", "-s", "512M", xfsImage);
        Tool.Run("mkfs.xfs", "-q", "-m", "reflink=1", xfsImage);
        Directory.CreateDirectory(xfsMount);
        Tool.Run("mount", "-o", "loop", xfsImage, xfsMount);
        try
        {
            string volume = Path.Combine(xfsMount, "ext4.img");
            Tool.Run("truncate", "-s", "32M", volume);
            Tool.Run("mkfs.ext4", "-q", "-F", "-b", "4096", volume);
            using var c = agent.Connect();
            await using var session = await RemoteImageSession.CreateAsync(c, new RemoteImageRequest(volume) { Provider = "reflink", SkipQuiesce = true }, CancellationToken.None);
            Assert.Equal("reflink", session.Image.Provider);
            var map = await session.FetchMapAsync(CancellationToken.None);
            var now = await session.GetConfigurationIdAsync(CancellationToken.None);
            Assert.True(now.Held);
            Assert.Equal(map.ConfigurationId, now.ConfigurationId);

            // Rewriting a block of the clone outside any file (block 0 holds no ext4 metadata) un-shares it: the clone's
            // storage moves, its file system does not change, and the ID still changes.
            string clone = session.Image.SnapshotPath;
            Tool.Run("dd", "if=/dev/zero", $"of={clone}", "bs=512", "count=1", "conv=notrunc", "status=none");
            var moved = await session.GetConfigurationIdAsync(CancellationToken.None);
            Assert.NotEqual(map.ConfigurationId, moved.ConfigurationId);
            var remap = Assert.Single(await session.EnsureCurrentAsync(map, CancellationToken.None));
            Assert.Empty(remap.Changed);
            Assert.Empty(remap.Removed);
        }
        finally
        {
            Tool.TryRun("umount", [xfsMount]);
        }
    }
}
