using Offhost.DataMover.Tests.Fakes;
using Offhost.Scsi.ExtendedCopy;

namespace Offhost.DataMover.Tests;

/// <summary>Fixed-mode tapes, DC, PAD and the byte-offset and discard segment types.</summary>
public class ResidualAndModeTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static ushort FixedTape(Rig rig, MemoryTapeDevice tape, int blockBytes, bool pad)
    {
        var naa = Rig.Naa(100 + rig.Cscds.Count);
        rig.Registry.Register(Rig.Requester, naa, tape);
        rig.Cscds.Add(IdentificationCscdDescriptor.ForNaa(naa, PeripheralDeviceType.SequentialAccess, new StreamDeviceTypeParameters(pad, true, blockBytes)));
        return (ushort)(rig.Cscds.Count - 1);
    }

    [Fact]
    public async Task Fixed_mode_writes_records_of_the_stream_block_length_and_pads_the_last_with_zeros()
    {
        var rig = new Rig();
        var src = MemoryBlockDevice.Random(30, 10);
        var tape = new MemoryTapeDevice();
        ushort s = rig.Block(src, pad: true), t = FixedTape(rig, tape, 4096, pad: true);
        var m = rig.Manager();
        await m.ExecuteAsync(rig.List([new BlockToStreamSegment(s, t, 2, 10, 0)]), Ct);
        Assert.Equal([4096, 4096], tape.Records.Select(r => r.Length));
        Assert.Equal(src.Data, tape.Data[..5120]);
        Assert.All(tape.Data[5120..], b => Assert.Equal(0, b));

        // Restore the 10 blocks: the zero pad of the last record is residual source data, stripped by the tape's PAD.
        await tape.RewindAsync(Ct);
        var dst = MemoryBlockDevice.Blank(10);
        ushort d = rig.Block(dst);
        await m.ExecuteAsync(rig.List([new StreamToBlockSegment(t, d, 1, 10, 0)], listId: 2), Ct);
        Assert.Equal(src.Data, dst.Data);
    }

    [Fact]
    public async Task Fixed_mode_with_stream_block_length_zero_is_an_invalid_field()
    {
        var rig = new Rig();
        var src = MemoryBlockDevice.Random(31, 8);
        var tape = new MemoryTapeDevice();
        ushort s = rig.Block(src), t = FixedTape(rig, tape, 0, pad: false);
        var e = await Assert.ThrowsAsync<CopyAbortedException>(() => rig.Manager().ExecuteAsync(rig.List([new BlockToStreamSegment(s, t, 1, 8, 0)]), Ct));
        Assert.Equal((0x26, 0x00), (e.Sense.Asc, e.Sense.Ascq));
    }

    [Fact]
    public async Task DC_counts_destination_blocks_when_block_sizes_differ()
    {
        var rig = new Rig();
        var src = MemoryBlockDevice.Random(32, 64);
        var dst = MemoryBlockDevice.Blank(8, blockSizeBytes: 4096);
        ushort s = rig.Block(src), d = rig.Block(dst);
        var outcome = await rig.Manager().ExecuteAsync(rig.List([new BlockToBlockSegment(s, d, 2, 8, 1) { Dc = true }]), Ct);
        Assert.Equal(8192, outcome.TransferredBytes);
        Assert.Equal(src.Data.AsSpan(8 * 512, 8192).ToArray(), dst.Data.AsSpan(4096, 8192).ToArray());
        Assert.All(dst.Data[..4096], b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task Destination_PAD_zero_fills_the_last_block_of_an_inexact_block_to_block_segment()
    {
        var rig = new Rig();
        var src = MemoryBlockDevice.Random(33, 8);
        var dst = new MemoryBlockDevice(Enumerable.Repeat((byte)0xEE, 8192).ToArray(), "dst4k", 4096);
        ushort s = rig.Block(src), d = rig.Block(dst, pad: true);
        await rig.Manager().ExecuteAsync(rig.List([new BlockToBlockSegment(s, d, 3, 0, 0)]), Ct);
        Assert.Equal(src.Data[..1536], dst.Data[..1536]);
        Assert.All(dst.Data[1536..4096], b => Assert.Equal(0, b));
        Assert.All(dst.Data[4096..], b => Assert.Equal(0xEE, b));
    }

    [Fact]
    public async Task Stream_to_block_offset_and_stream_to_discard_consume_the_tape_in_order()
    {
        var rig = new Rig();
        var tape = new MemoryTapeDevice();
        var payload = Testing.TestData.Random(34, 3000);
        for (int at = 0; at < payload.Length; at += 1000) await tape.WriteRecordAsync(payload.AsMemory(at, 1000), Ct);
        await tape.RewindAsync(Ct);
        var dst = MemoryBlockDevice.Random(35, 8, readOnly: false);
        var before = dst.Data.ToArray();
        ushort t = rig.Tape(tape), d = rig.Block(dst);
        var m = rig.Manager();
        await m.ExecuteAsync(rig.List(
        [
            new StreamToDiscardSegment(t, 1000, 1000) { Hold = true },
            new StreamToBlockOffsetSegment(t, d, 1000, 2000, 1, 300),
        ], listId: 4), Ct);
        var expected = before.ToArray();
        payload.AsSpan(1000, 2000).CopyTo(expected.AsSpan(512 + 300));
        Assert.Equal(expected, dst.Data);
        Assert.Equal(payload[..1000], m.GetHeldData(4));
    }

    [Fact]
    public async Task A_record_longer_than_the_transfer_length_is_a_data_overrun_not_a_silent_truncation()
    {
        var rig = new Rig();
        var tape = new MemoryTapeDevice();
        await tape.WriteRecordAsync(new byte[2048], Ct);
        await tape.RewindAsync(Ct);
        var dst = MemoryBlockDevice.Blank(4);
        ushort t = rig.Tape(tape), d = rig.Block(dst);
        var e = await Assert.ThrowsAsync<CopyAbortedException>(() => rig.Manager().ExecuteAsync(rig.List([new StreamToBlockSegment(t, d, 1024, 2, 0)]), Ct));
        Assert.Equal((0x0D, 0x05), (e.Sense.Asc, e.Sense.Ascq));
    }

    [Fact]
    public async Task Leftover_record_bytes_without_CAT_or_PAD_are_an_inexact_segment()
    {
        var rig = new Rig();
        var tape = new MemoryTapeDevice();
        await tape.WriteRecordAsync(new byte[1000], Ct);
        await tape.RewindAsync(Ct);
        var dst = MemoryBlockDevice.Blank(4);
        ushort t = rig.Tape(tape), d = rig.Block(dst);
        var e = await Assert.ThrowsAsync<CopyAbortedException>(() => rig.Manager().ExecuteAsync(rig.List([new StreamToBlockSegment(t, d, 1000, 1, 0)]), Ct));
        Assert.Equal((0x26, 0x0A), (e.Sense.Asc, e.Sense.Ascq));
    }
}

public class OrderingTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_overlapping_copy_forward_on_one_device_moves_the_bytes_like_memmove()
    {
        var rig = new Rig();
        var disk = MemoryBlockDevice.Random(40, 4096, readOnly: false);
        var before = disk.Data.ToArray();
        ushort d = rig.Block(disk);
        await rig.Manager(new CopyManagerOptions { ReadChunkBytes = 8192 }).ExecuteAsync(rig.List([new BlockToBlockSegment(d, d, 3000, 10, 13)]), Ct);
        var expected = before.ToArray();
        before.AsSpan(10 * 512, 3000 * 512).CopyTo(expected.AsSpan(13 * 512));
        Assert.Equal(expected, disk.Data);
    }

    [Fact]
    public async Task A_segment_reads_what_the_previous_segment_wrote()
    {
        var rig = new Rig();
        var a = MemoryBlockDevice.Random(41, 512, "a", readOnly: false);
        var b = MemoryBlockDevice.Random(42, 256, "b");
        ushort da = rig.Block(a), db = rig.Block(b);
        // b[0..100) → a[100..200), then a[190..200) → a[300..310): the second must copy what the first wrote last,
        // which a read-ahead spanning both segments would fetch before it is written.
        await rig.Manager(new CopyManagerOptions { ReadChunkBytes = 4096, ReadsInFlight = 4 }).ExecuteAsync(rig.List(
            [new BlockToBlockSegment(db, da, 100, 0, 100), new BlockToBlockSegment(da, da, 10, 190, 300)]), Ct);
        Assert.Equal(b.Data.AsSpan(0, 51200).ToArray(), a.Data.AsSpan(100 * 512, 51200).ToArray());
        Assert.Equal(b.Data.AsSpan(90 * 512, 5120).ToArray(), a.Data.AsSpan(300 * 512, 5120).ToArray());
    }
}

public class CancellationTests
{
    [Fact]
    public async Task Cancelling_a_running_copy_stops_it_and_records_completed_with_errors()
    {
        var rig = new Rig();
        var src = new GatedBlockDevice(MemoryBlockDevice.Random(60, 4096));
        var tape = new Fakes.MemoryTapeDevice();
        ushort s = rig.Block(src), t = rig.Tape(tape, pad: true);
        var m = rig.Manager(new CopyManagerOptions { ReadChunkBytes = 65536, ReadsInFlight = 3 });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var copy = m.ExecuteAsync(rig.List(Rig.Backup(s, t, 4096, 1000, 65536), listId: 5), cts.Token);
        await src.WaitForFirstReadAsync(copy, TestContext.Current.CancellationToken);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => copy);
        Assert.Empty(tape.Objects);
        Assert.Equal(Scsi.ExtendedCopy.CopyManagerStatus.CompletedWithErrors, m.GetCopyStatus(5).Status);
        // The list id is free again.
        src.Open();
        await m.ExecuteAsync(rig.List(Rig.Backup(s, t, 8, 8, 4096), listId: 5), TestContext.Current.CancellationToken);
        Assert.Equal(Scsi.ExtendedCopy.CopyManagerStatus.CompletedWithoutErrors, m.GetCopyStatus(5).Status);
    }
}
