using Offhost.Core.Errors;
using Offhost.Core.Units;
using Offhost.Iscsi.Initiator;
using Offhost.Iscsi.Login;
using Offhost.Testing;

namespace Offhost.Iscsi.Tests.Integration;

/// <summary>Authentication, missing targets and LUNs, digests, discovery, and connections that break: each ends in a
/// clear exception within the configured timeouts, never a hang.</summary>
[Trait("Category", "Integration")]
public sealed class SessionFailureTests : IDisposable
{
    const string Open = "iqn.2024-01.org.offhost.test:open";
    const string OneWay = "iqn.2024-01.org.offhost.test:chap";
    const string Mutual = "iqn.2024-01.org.offhost.test:mutual";
    const int DiskBytes = 8 * 1024 * 1024;
    readonly TgtDaemon _tgt = new();
    readonly string _openImage;
    readonly byte[] _content = TestData.Random(3, DiskBytes);

    public SessionFailureTests()
    {
        _tgt.AddTarget(1, Open);
        _openImage = _tgt.AddDisk(1, 1, _content);
        _tgt.Admin("--mode", "target", "--op", "update", "--tid", "1", "--name", "HeaderDigest", "--value", "CRC32C,None");
        _tgt.Admin("--mode", "target", "--op", "update", "--tid", "1", "--name", "DataDigest", "--value", "CRC32C,None");
        _tgt.AddTarget(2, OneWay);
        _tgt.AddDisk(2, 1, _content);
        _tgt.AddAccount(2, "backup", "s3cret-one-way");
        _tgt.AddTarget(3, Mutual);
        _tgt.AddDisk(3, 1, _content);
        _tgt.AddAccount(3, "backup2", "s3cret-initiator");
        _tgt.AddAccount(3, "target3", "s3cret-of-target", outgoing: true);
    }

    public void Dispose() => _tgt.Dispose();

    static IscsiInitiatorOptions Options => new()
    {
        CommandTimeout = TimeSpan.FromSeconds(5),
        LoginTimeout = TimeSpan.FromSeconds(5),
        ConnectTimeout = TimeSpan.FromSeconds(5),
        PingTimeout = TimeSpan.FromSeconds(3),
    };

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    async Task AssertReadsContentAsync(IscsiBlockDevice disk)
    {
        var buffer = new byte[DiskBytes];
        await disk.ReadAsync(new Lba(0), buffer, Ct);
        Assert.True(_content.AsSpan().SequenceEqual(buffer));
    }

    [Fact]
    public async Task One_way_chap_logs_in_with_the_right_secret_from_a_file()
    {
        string secretFile = _tgt.Scratch["secret"];
        File.WriteAllText(secretFile, "s3cret-one-way\n");
        await using var disk = await IscsiDevices.OpenBlockAsync($"iscsi://backup@{_tgt.Portal}/{OneWay}/1?secret-file={secretFile}", Options, Ct);
        await AssertReadsContentAsync(disk);
    }

    [Fact]
    public async Task One_way_chap_with_a_wrong_secret_is_an_authentication_failure()
    {
        var e = await Assert.ThrowsAsync<IscsiLoginException>(() =>
            IscsiDevices.OpenBlockAsync($"iscsi://backup:Xq9-not-it@{_tgt.Portal}/{OneWay}/1", Options, Ct));
        Assert.True(e.IsAuthenticationFailure, e.Message);
        Assert.DoesNotContain("Xq9-not-it", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chap_target_without_credentials_is_refused()
    {
        var e = await Assert.ThrowsAsync<IscsiLoginException>(() =>
            IscsiDevices.OpenBlockAsync($"iscsi://{_tgt.Portal}/{OneWay}/1", Options, Ct));
        Assert.True(e.IsAuthenticationFailure, e.Message);
    }

    [Fact]
    public async Task Mutual_chap_verifies_the_target()
    {
        var uri = IscsiUri.Parse($"iscsi://backup2:s3cret-initiator@{_tgt.Portal}/{Mutual}/1?mutual-user=target3");
        var options = Options;
        // The mutual secret comes from a file here; OFFHOST_ISCSI_MUTUAL_SECRET works the same way.
        string mutualFile = _tgt.Scratch["mutual"];
        File.WriteAllText(mutualFile, "s3cret-of-target");
        await using (var disk = await IscsiDevices.OpenBlockAsync(uri with { MutualSecretFile = mutualFile }, options, Ct))
            await AssertReadsContentAsync(disk);

        File.WriteAllText(mutualFile, "not-the-target-secret");
        var e = await Assert.ThrowsAsync<IscsiLoginException>(() => IscsiDevices.OpenBlockAsync(uri with { MutualSecretFile = mutualFile }, options, Ct));
        Assert.Contains("mutual", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Mutual_chap_against_a_one_way_target_is_refused()
    {
        string mutualFile = _tgt.Scratch["mutual-oneway"];
        File.WriteAllText(mutualFile, "whatever-secret");
        var e = await Assert.ThrowsAsync<IscsiLoginException>(() => IscsiDevices.OpenBlockAsync(
            $"iscsi://backup:s3cret-one-way@{_tgt.Portal}/{OneWay}/1?mutual-secret-file={mutualFile}", Options, Ct));
        Assert.True(e.IsAuthenticationFailure, e.Message);
        Assert.Contains("mutual", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Missing_target_is_reported_as_not_found()
    {
        var e = await Assert.ThrowsAsync<IscsiLoginException>(() =>
            IscsiDevices.OpenBlockAsync($"iscsi://{_tgt.Portal}/iqn.2024-01.org.offhost.test:nonexistent/1", Options, Ct));
        Assert.True(e.IsTargetNotFound, e.Message);
        Assert.Contains("not found", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_lun_names_the_luns_that_exist()
    {
        var e = await Assert.ThrowsAsync<UserFacingException>(() =>
            IscsiDevices.OpenBlockAsync($"iscsi://{_tgt.Portal}/{Open}/7", Options, Ct));
        Assert.Contains("no LUN 7", e.Message, StringComparison.Ordinal);
        Assert.Contains("0, 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nothing_listening_is_a_connection_error()
    {
        var proxy = new CuttingProxy(_tgt.Port);
        int port = proxy.Port;
        proxy.Dispose();
        await Assert.ThrowsAsync<IscsiConnectionException>(() =>
            IscsiDevices.OpenBlockAsync($"iscsi://127.0.0.1:{port}/{Open}/1", Options, Ct));
    }

    [Fact]
    public async Task Header_and_data_digests_protect_reads_and_writes()
    {
        await using var disk = await IscsiDevices.OpenBlockAsync($"iscsi://{_tgt.Portal}/{Open}/1?digest=crc32c", Options, Ct);
        Assert.True(disk.Session.Parameters.HeaderDigest);
        Assert.True(disk.Session.Parameters.DataDigest);
        await AssertReadsContentAsync(disk);
        var data = TestData.Random(11, 1024 * 1024);
        await disk.WriteAsync(new Lba(2048), data, Ct);
        await disk.FlushAsync(Ct);
        Assert.True(data.AsSpan().SequenceEqual(File.ReadAllBytes(_openImage).AsSpan(2048 * 512, data.Length)));
    }

    [Fact]
    public async Task Requiring_digests_from_a_target_that_refuses_them_fails_login()
    {
        var e = await Assert.ThrowsAsync<IscsiLoginException>(() =>
            IscsiDevices.OpenBlockAsync($"iscsi://backup:s3cret-one-way@{_tgt.Portal}/{OneWay}/1?digest=crc32c", Options, Ct));
        Assert.Contains("CRC32C", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Discovery_lists_every_target_with_its_portal()
    {
        var targets = await IscsiDevices.DiscoverAsync(IscsiUri.Parse($"iscsi://{_tgt.Portal}"), Options, Ct);
        Assert.Equal([Open, OneWay, Mutual], targets.Select(t => t.Name).OrderBy(n => n == Open ? 0 : n == OneWay ? 1 : 2));
        Assert.All(targets, t => Assert.Contains(t.Addresses, a => a.StartsWith($"127.0.0.1:{_tgt.Port}", StringComparison.Ordinal)));

        var luns = await IscsiDevices.ListLunsAsync(IscsiUri.Parse($"iscsi://{_tgt.Portal}/{Open}"), Options, Ct);
        Assert.Contains(luns, l => l.Lun == 1 && l.SizeBytes == DiskBytes);
    }

    [Fact]
    public async Task Ping_and_logout_work_on_a_healthy_session()
    {
        await using var disk = await IscsiDevices.OpenBlockAsync($"iscsi://{_tgt.Portal}/{Open}/1", Options, Ct);
        await disk.Session.PingAsync(Ct);
        await disk.Session.LogoutAsync(Ct);
        Assert.True(disk.Session.IsFailed);
    }

    [Fact]
    public async Task Reads_survive_a_connection_cut_mid_transfer()
    {
        using var proxy = new CuttingProxy(_tgt.Port);
        await using var disk = await IscsiDevices.OpenBlockAsync($"iscsi://127.0.0.1:{proxy.Port}/{Open}/1", Options, Ct);
        proxy.CutFirstConnectionAfterMore(1024 * 1024);    // in the middle of the 8 MiB read below
        await AssertReadsContentAsync(disk);
        Assert.True(proxy.Connections >= 2, "the read went over a new connection");
    }

    [Fact]
    public async Task A_write_cut_mid_transfer_is_reported_not_retried()
    {
        using var proxy = new CuttingProxy(_tgt.Port);
        await using var disk = await IscsiDevices.OpenBlockAsync($"iscsi://127.0.0.1:{proxy.Port}/{Open}/1", Options, Ct);
        proxy.CutFirstConnectionAfterMore(1000);            // a few R2Ts and responses into the writes below
        var e = await Assert.ThrowsAsync<IscsiConnectionException>(async () =>
        {
            for (int i = 0; i < 64; i++)
                await disk.WriteAsync(new Lba(i * 256), TestData.Random(i, 128 * 1024), Ct);
        });
        Assert.Contains("not retried", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_target_that_stops_answering_times_out()
    {
        using var proxy = new CuttingProxy(_tgt.Port);
        await using var disk = await IscsiDevices.OpenBlockAsync($"iscsi://127.0.0.1:{proxy.Port}/{Open}/1",
            Options with { MaxReconnectAttempts = 1 }, Ct);
        proxy.Stalled = true;
        var e = await Assert.ThrowsAsync<IscsiConnectionException>(async () => await disk.ReadAsync(new Lba(0), new byte[4096], Ct));
        Assert.Contains("within", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_killed_target_fails_reads_clearly()
    {
        await using var disk = await IscsiDevices.OpenBlockAsync($"iscsi://{_tgt.Portal}/{Open}/1", Options with { MaxReconnectAttempts = 2 }, Ct);
        await AssertReadsContentAsync(disk);
        _tgt.Kill();
        var e = await Assert.ThrowsAsync<IscsiConnectionException>(async () => await disk.ReadAsync(new Lba(0), new byte[4096], Ct));
        Assert.Contains("READ(16)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keep_alive_pings_hold_an_idle_session_and_detect_a_dead_one()
    {
        using var proxy = new CuttingProxy(_tgt.Port);
        var options = Options with { KeepAliveInterval = TimeSpan.FromSeconds(1), PingTimeout = TimeSpan.FromSeconds(2), MaxReconnectAttempts = 0 };
        await using var disk = await IscsiDevices.OpenBlockAsync($"iscsi://127.0.0.1:{proxy.Port}/{Open}/1", options, Ct);
        await Task.Delay(TimeSpan.FromSeconds(3), Ct);                // several pings answered
        Assert.False(disk.Session.IsFailed);
        await AssertReadsContentAsync(disk);

        proxy.Stalled = true;                                        // the path goes silent; no command is running
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!disk.Session.IsFailed && DateTime.UtcNow < deadline) await Task.Delay(100, Ct);
        Assert.True(disk.Session.IsFailed, "the keep-alive noticed the dead connection");
    }
}
