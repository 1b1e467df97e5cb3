using Offhost.Core.Units;
using Offhost.Iscsi.Initiator;
using Offhost.Testing;

namespace Offhost.Iscsi.Tests.Integration;

[Trait("Category", "Integration")]
public sealed class BlockDeviceTests : IDisposable
{
    const string Iqn = "iqn.2024-01.org.offhost.test:block";
    const int DiskBytes = 32 * 1024 * 1024;
    readonly TgtDaemon _tgt = new();
    readonly string _image;

    public BlockDeviceTests()
    {
        _tgt.AddTarget(1, Iqn);
        _image = _tgt.AddDisk(1, 1, TestData.Random(1, DiskBytes));
    }

    public void Dispose() => _tgt.Dispose();

    static IscsiInitiatorOptions Options => new() { QueueDepth = 8, CommandTimeout = TimeSpan.FromSeconds(30) };

    string Uri(int lun = 1) => $"iscsi://{_tgt.Portal}/{Iqn}/{lun}";

    [Fact]
    public async Task Reads_whole_disk_identical_to_backing_file_with_queue_depth_8()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var disk = await IscsiDevices.OpenBlockAsync(Uri(), Options, ct);
        Assert.Equal(512, disk.BlockSizeBytes);
        Assert.Equal(DiskBytes / 512, disk.BlockCount);
        Assert.Matches("^[0-9a-f]{16,32}$", disk.DeviceId);

        var expected = File.ReadAllBytes(_image);
        var actual = new byte[DiskBytes];
        const int chunk = 1024 * 1024;
        var tasks = new List<Task>();
        for (int off = 0; off < DiskBytes; off += chunk)
        {
            int o = off;
            tasks.Add(disk.ReadAsync(new Lba(o / 512), actual.AsMemory(o, chunk), ct).AsTask());
        }
        await Task.WhenAll(tasks);
        Assert.True(expected.AsSpan().SequenceEqual(actual));
    }

    [Fact]
    public async Task Large_concurrent_writes_land_in_the_backing_file()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var disk = await IscsiDevices.OpenBlockAsync(Uri(), Options with { MaxTransferBytes = 4 * 1024 * 1024 }, ct);
        // tgt's answers to our proposal: its limits win by the min/OR/AND result functions.
        var p = disk.Session.Parameters;
        Assert.Equal(262144, p.MaxBurstLengthBytes);
        Assert.Equal(65536, p.FirstBurstLengthBytes);
        Assert.Equal(8192, p.TargetMaxRecvDataSegmentLengthBytes);
        Assert.True(p.InitialR2T);
        Assert.True(p.ImmediateData);
        // 3 MiB writes exceed MaxBurstLength, so each needs immediate data and then twelve R2T sequences.
        var data = TestData.Random(7, 3 * 1024 * 1024 * 4);
        var tasks = new List<Task>();
        for (int i = 0; i < 4; i++)
        {
            int at = i * 3 * 1024 * 1024;
            tasks.Add(disk.WriteAsync(new Lba((1024 * 1024 + at) / 512), data.AsMemory(at, 3 * 1024 * 1024), ct).AsTask());
        }
        await Task.WhenAll(tasks);
        await disk.FlushAsync(ct);
        var file = File.ReadAllBytes(_image);
        Assert.True(data.AsSpan().SequenceEqual(file.AsSpan(1024 * 1024, data.Length)));

        var back = new byte[data.Length];
        await disk.ReadAsync(new Lba(1024 * 1024 / 512), back, ct);
        Assert.True(data.AsSpan().SequenceEqual(back));
    }

    [Fact]
    public async Task Unaligned_ReadAt_matches_the_file()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var disk = await IscsiDevices.OpenBlockAsync(Uri(), Options, ct);
        var file = File.ReadAllBytes(_image);
        foreach (var (offset, length) in new[] { (0L, 1), (511L, 2), (1000L, 5000), (DiskBytes - 3L, 3), (12345L, 1_000_000) })
        {
            var buffer = new byte[length];
            disk.ReadAt(offset, buffer);
            Assert.True(file.AsSpan((int)offset, length).SequenceEqual(buffer), $"offset {offset} length {length}");
        }
        Assert.Throws<EndOfStreamException>(() => disk.ReadAt(DiskBytes - 1, new byte[2]));
    }

    [Fact]
    public async Task Device_id_is_the_same_in_every_session_and_read_only_refuses_writes()
    {
        var ct = TestContext.Current.CancellationToken;
        string first;
        await using (var disk = await IscsiDevices.OpenBlockAsync(Uri(), Options, ct))
            first = disk.DeviceId;
        await using var again = await IscsiDevices.OpenBlockAsync(Uri(), Options with { ReadOnly = true }, ct);
        Assert.Equal(first, again.DeviceId);
        Assert.True(again.IsReadOnly);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await again.WriteAsync(new Lba(0), new byte[512], ct));
        await Assert.ThrowsAsync<ArgumentException>(async () => await again.ReadAsync(new Lba(0), new byte[100], ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await again.ReadAsync(new Lba(again.BlockCount), new byte[512], ct));
    }

    [Fact]
    public async Task Opening_a_tape_lun_as_a_disk_is_refused()
    {
        var ct = TestContext.Current.CancellationToken;
        _tgt.AddTape(1, 2, 1, "OFH009");
        var e = await Assert.ThrowsAsync<Offhost.Core.Errors.UserFacingException>(() => IscsiDevices.OpenBlockAsync(Uri(2), Options, ct));
        Assert.Contains("not a disk", e.Message, StringComparison.Ordinal);
    }
}
