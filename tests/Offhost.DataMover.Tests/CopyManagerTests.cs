using FsCheck.Xunit;
using Offhost.Core.Devices;
using Offhost.DataMover.Tests.Fakes;
using Offhost.Scsi.ExtendedCopy;
using Offhost.Scsi.Sense;

namespace Offhost.DataMover.Tests;

public class CopyManagerTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Block_to_block_clone_of_a_whole_device_reproduces_the_bytes()
    {
        var rig = new Rig();
        var src = MemoryBlockDevice.Random(1, 3000);
        var dst = MemoryBlockDevice.Blank(3000);
        ushort s = rig.Block(src), d = rig.Block(dst);
        var segs = new List<SegmentDescriptor>();
        for (int lba = 0; lba < 3000; lba += 700)
            segs.Add(new BlockToBlockSegment(s, d, (ushort)Math.Min(700, 3000 - lba), (ulong)lba, (ulong)lba));
        var outcome = await rig.Manager().ExecuteAsync(rig.List(segs).ToBytes(), Ct);
        Assert.Equal(src.Data, dst.Data);
        Assert.Equal(segs.Count, outcome.SegmentsProcessed);
        Assert.Equal(3000L * 512, outcome.TransferredBytes);
        Assert.Equal(0, src.Writes);
    }

    [Fact]
    public async Task Backup_to_tape_then_restore_reproduces_the_bytes_with_records_of_the_transfer_length()
    {
        var rig = new Rig();
        var src = MemoryBlockDevice.Random(2, 5000);
        var tape = new MemoryTapeDevice();
        var dst = MemoryBlockDevice.Blank(5000);
        ushort s = rig.Block(src), t = rig.Tape(tape, pad: true), d = rig.Block(dst);
        var m = rig.Manager();
        const int record = 64 << 10;

        var backup = await m.ExecuteAsync(rig.List(Rig.Backup(s, t, 5000, 1234, record)).ToBytes(), Ct);
        Assert.Equal(5000L * 512, backup.TransferredBytes);
        Assert.Equal(src.Data, tape.Data);
        var sizes = tape.Records.Select(r => r.Length).ToList();
        Assert.All(sizes[..^1], n => Assert.Equal(record, n));
        Assert.Equal(5000 * 512 % record, sizes[^1]);

        await tape.RewindAsync(Ct);
        var restore = await m.ExecuteAsync(rig.List(Rig.Restore(t, d, 5000, 999, record), listId: 2).ToBytes(), Ct);
        Assert.Equal(src.Data, dst.Data);
        Assert.Equal(5000L * 512, restore.TransferredBytes);
        Assert.Equal((5000 + 998) / 999, restore.SegmentsProcessed);
    }

    [Property(MaxTest = 60)]
    public async Task Any_split_into_segments_and_any_record_size_backs_up_and_restores_identically(ushort seed)
    {
        var r = new Random(seed);
        int blocks = r.Next(1, 600);
        int record = r.Next(1, 5) == 1 ? r.Next(1, 2000) : 512 * r.Next(1, 40);
        var rig = new Rig();
        var src = MemoryBlockDevice.Random(seed, blocks);
        var tape = new MemoryTapeDevice();
        var dst = MemoryBlockDevice.Blank(blocks);
        // Odd seeds: a source the pipeline reads on its own thread, as it reads image files and block devices.
        ushort s = rig.Block(seed % 2 == 1 ? new SynchronousBlockDevice(src) : src), t = rig.Tape(tape, pad: true), d = rig.Block(dst);
        var m = rig.Manager(new CopyManagerOptions { ReadChunkBytes = 512 * r.Next(1, 64), ReadsInFlight = r.Next(1, 5) });
        await m.ExecuteAsync(rig.List(Rig.Backup(s, t, blocks, r.Next(1, 200), record)), Ct);
        Assert.Equal(src.Data, tape.Data);
        await tape.RewindAsync(Ct);
        await m.ExecuteAsync(rig.List(Rig.Restore(t, d, blocks, r.Next(1, 200), record), listId: 2), Ct);
        Assert.Equal(src.Data, dst.Data);
    }

    [Property(MaxTest = 60)]
    public async Task Inline_data_between_block_segments_lands_in_order_with_the_records_each_segment_makes_alone(ushort seed)
    {
        // An archive's shape: inline headers between files' block data, all to one tape, read by one pipeline per run.
        var r = new Random(seed);
        var src = MemoryBlockDevice.Random(seed, 800);
        var inline = Offhost.Testing.TestData.Random(seed + 1, 4096);
        var segments = new List<SegmentDescriptor>();
        for (int i = r.Next(1, 30); i > 0; i--)
        {
            int record = r.Next(1, 4) == 1 ? r.Next(1, 3000) : 512 * r.Next(1, 9);
            if (r.Next(3) == 0)
            {
                int offset = r.Next(0, 4000);
                segments.Add(new InlineDataToStreamSegment(1, record, (uint)offset, (uint)r.Next(0, 4096 - offset)));
            }
            else
            {
                segments.Add(new BlockToStreamSegment(0, 1, record, (ushort)r.Next(0, 40), (ulong)r.Next(0, 760)));
            }
        }
        var options = new CopyManagerOptions { ReadChunkBytes = 512 * r.Next(1, 64), ReadsInFlight = r.Next(1, 4) };

        async Task<List<byte[]?>> RunAsync(bool oneListPerSegment)
        {
            var rig = new Rig();
            var tape = new MemoryTapeDevice();
            ushort s = rig.Block(seed % 2 == 1 ? new SynchronousBlockDevice(src) : src), t = rig.Tape(tape, pad: true);
            Assert.Equal((0, 1), (s, t));
            var m = rig.Manager(options);
            if (oneListPerSegment)
                foreach (var segment in segments) await m.ExecuteAsync(rig.List([segment], inline: inline), Ct);
            else
                await m.ExecuteAsync(rig.List(segments, inline: inline), Ct);
            return tape.Objects.ToList();
        }

        Assert.Equal(await RunAsync(oneListPerSegment: true), await RunAsync(oneListPerSegment: false));
    }

    [Fact]
    public async Task Adjacent_block_ranges_of_consecutive_segments_are_read_together()
    {
        var rig = new Rig();
        var src = MemoryBlockDevice.Random(3, 4096);
        var tape = new MemoryTapeDevice();
        ushort s = rig.Block(src), t = rig.Tape(tape);
        // 512 segments of 8 blocks (4 KiB) each: exact 4 KiB records, so coalescing cannot change the records.
        var segs = Rig.Backup(s, t, 4096, 8, 4096, cat: false);
        await rig.Manager(new CopyManagerOptions { ReadChunkBytes = 1 << 20 }).ExecuteAsync(rig.List(segs), Ct);
        Assert.Equal(src.Data, tape.Data);
        Assert.Equal(512, tape.Records.Count());
        Assert.Equal(2, src.Reads);                    // 2 MiB in 1 MiB reads
    }

    [Fact]
    public async Task A_synchronous_source_is_read_by_the_pipeline_thread_and_consecutive_lists_reuse_its_buffers()
    {
        var rig = new Rig();
        var inner = MemoryBlockDevice.Random(5, 6000);
        var src = new SynchronousBlockDevice(inner);
        var tape = new MemoryTapeDevice();
        ushort s = rig.Block(src), t = rig.Tape(tape, pad: true);
        var m = rig.Manager(new CopyManagerOptions { ReadChunkBytes = 256 << 10, ReadsInFlight = 3 });
        // Three lists on one copy manager, each a third of the device: the second and third run on the first one's buffers.
        for (int part = 0; part < 3; part++)
        {
            var segs = Rig.Backup(s, t, 2000, 700, 64 << 10).Select(d => (BlockToStreamSegment)d)
                .Select(d => d with { BlockDeviceLogicalBlockAddress = d.BlockDeviceLogicalBlockAddress + (ulong)(2000 * part) });
            var outcome = await m.ExecuteAsync(rig.List(segs, listId: (byte)(part + 1)), Ct);
            Assert.Equal(2000L * 512, outcome.TransferredBytes);
        }
        Assert.Equal(inner.Data, tape.Data);
        Assert.Equal(0, src.AsynchronousReads);        // every read went through the synchronous path
        Assert.True(src.SynchronousReads >= 3 * (2000 * 512 / (256 << 10)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_read_error_aborts_naming_the_segment_and_the_device_byte_offset_and_reports_what_was_written(bool synchronousSource)
    {
        var rig = new Rig();
        var inner = MemoryBlockDevice.Random(4, 4000);
        IBlockDevice src = synchronousSource ? new SynchronousBlockDevice(inner, badLba: 2500) : new FaultyBlockDevice(inner, badLba: 2500);
        var tape = new MemoryTapeDevice();
        ushort s = rig.Block(src), t = rig.Tape(tape, pad: true);
        var m = rig.Manager(new CopyManagerOptions { ReadChunkBytes = 64 << 10 });
        var list = rig.List(Rig.Backup(s, t, 4000, 1000, 32 << 10), listId: 7);

        var e = await Assert.ThrowsAsync<CopyAbortedException>(() => m.ExecuteAsync(list, Ct));
        Assert.Equal(2, e.SegmentIndex);
        Assert.Equal(2500L * 512, e.DeviceByteOffset);
        Assert.Equal(SenseKey.CopyAborted, e.Sense.Key);
        Assert.Equal(2u, e.Sense.CommandSpecific);
        Assert.Equal(2500L * 512, e.Sense.Information);
        Assert.Contains("segment 2", e.Message, StringComparison.Ordinal);
        Assert.Contains($"byte offset {2500 * 512}", e.Message, StringComparison.Ordinal);
        // Clean point: whole records only, all of them a prefix of the source, and exactly what was reported.
        Assert.Equal(e.TransferredBytes, tape.Data.Length);
        Assert.All(tape.Records, r => Assert.Equal(32 << 10, r.Length));
        Assert.Equal(inner.Data.AsSpan(0, tape.Data.Length).ToArray(), tape.Data);
        Assert.True(tape.Data.Length <= 2500 * 512);
        Assert.Equal(2, e.SegmentsProcessed);

        var details = FailedSegmentDetails.Read(m.ReceiveCopyResults(new ReceiveCopyResultsCdb(ReceiveCopyResultsServiceAction.FailedSegmentDetails, 7, 1024).ToBytes()));
        Assert.Equal(e.Sense, SenseData.Read(details.SenseData) with { ResponseCode = 0x70 });
        var status = CopyStatus.Read(m.ReceiveCopyResults(new ReceiveCopyResultsCdb(ReceiveCopyResultsServiceAction.CopyStatus, 7, 1024).ToBytes()));
        Assert.Equal(CopyManagerStatus.CompletedWithErrors, status.Status);
        Assert.Equal(2, status.SegmentsProcessed);
        Assert.Equal((uint)tape.Data.Length, status.TransferCount);
    }

    [Fact]
    public async Task A_full_tape_stops_with_end_of_medium_and_reports_exactly_what_is_on_it()
    {
        var rig = new Rig();
        var src = MemoryBlockDevice.Random(5, 2048);
        var tape = new MemoryTapeDevice(capacityBytes: 300_000);
        ushort s = rig.Block(src), t = rig.Tape(tape, pad: true);
        var e = await Assert.ThrowsAsync<CopyAbortedException>(() => rig.Manager().ExecuteAsync(rig.List(Rig.Backup(s, t, 2048, 256, 65536)), Ct));
        Assert.True(e.EndOfMedium);
        Assert.Equal(SenseKey.CopyAborted, e.Sense.Key);
        Assert.Equal((0x00, 0x02), (e.Sense.Asc, e.Sense.Ascq));
        Assert.Equal(4 * 65536, tape.Data.Length);                  // four records fit, the fifth did not
        Assert.Equal(tape.Data.Length, e.TransferredBytes);
        Assert.Equal(src.Data.AsSpan(0, tape.Data.Length).ToArray(), tape.Data);
        Assert.Equal(2, e.SegmentsProcessed);                       // 256 blocks = 128 KiB = two records per segment
        Assert.Equal(2, e.SegmentIndex);
    }

    [Fact]
    public async Task Early_warning_stops_after_the_record_that_entered_the_zone()
    {
        var rig = new Rig();
        var src = MemoryBlockDevice.Random(6, 2048);
        var tape = new MemoryTapeDevice(earlyWarningBytes: 200_000);
        ushort s = rig.Block(src), t = rig.Tape(tape, pad: true);
        var e = await Assert.ThrowsAsync<CopyAbortedException>(() => rig.Manager().ExecuteAsync(rig.List(Rig.Backup(s, t, 2048, 2048, 65536)), Ct));
        Assert.True(e.EndOfMedium);
        Assert.Equal(4 * 65536, tape.Data.Length);
        Assert.Equal(tape.Data.Length, e.TransferredBytes);
        Assert.Equal(0, e.SegmentsProcessed);
        Assert.Equal(src.Data.AsSpan(0, tape.Data.Length).ToArray(), tape.Data);
    }

    [Fact]
    public async Task A_CSCD_registered_for_another_requester_is_not_reachable()
    {
        var rig = new Rig();
        var src = MemoryBlockDevice.Random(7, 64);
        var dst = MemoryBlockDevice.Blank(64);
        ushort s = rig.Block(src), d = rig.Block(dst);
        var intruder = new CopyManager(rig.Registry, "iqn.2026-11.test:intruder");
        var e = await Assert.ThrowsAsync<CopyAbortedException>(() => intruder.ExecuteAsync(rig.List([new BlockToBlockSegment(s, d, 64, 0, 0)]), Ct));
        Assert.Equal((SenseKey.CopyAborted, (byte)0x0D, (byte)0x02), (e.Sense.Key, e.Sense.Asc, e.Sense.Ascq));
        Assert.All(dst.Data, b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task ValidSegDescr_bad_CSCD_index_and_LBA_beyond_capacity_are_copy_aborted_0D_02()
    {
        var rig = new Rig();
        var disk = MemoryBlockDevice.Blank(4096);
        ushort s = rig.Block(disk);
        var m = rig.Manager();
        var e1 = await Assert.ThrowsAsync<CopyAbortedException>(() => m.ExecuteAsync(rig.List([new BlockToBlockSegment(s, 1, 8, 0, 0)]), Ct));
        Assert.Equal((SenseKey.CopyAborted, (byte)0x0D, (byte)0x02), (e1.Sense.Key, e1.Sense.Asc, e1.Sense.Ascq));
        var e2 = await Assert.ThrowsAsync<CopyAbortedException>(() => m.ExecuteAsync(rig.List([new BlockToBlockSegment(s, s, 2048, 0, 4095)]), Ct));
        Assert.Equal((SenseKey.CopyAborted, (byte)0x0D, (byte)0x02), (e2.Sense.Key, e2.Sense.Asc, e2.Sense.Ascq));
        Assert.Equal(0, disk.Writes);
    }

    [Fact]
    public async Task Every_segment_is_checked_before_any_data_moves()
    {
        var rig = new Rig();
        var src = MemoryBlockDevice.Random(8, 64);
        var dst = MemoryBlockDevice.Blank(64);
        ushort s = rig.Block(src), d = rig.Block(dst);
        var list = rig.List([new BlockToBlockSegment(s, d, 8, 0, 0), new BlockToBlockSegment(s, d, 8, 0, 60)]);
        var e = await Assert.ThrowsAsync<CopyAbortedException>(() => rig.Manager().ExecuteAsync(list, Ct));
        Assert.Equal(1, e.SegmentIndex);
        Assert.Equal(0, dst.Writes);
        Assert.Equal(0, e.SegmentsProcessed);
    }

    [Fact]
    public async Task A_read_only_destination_is_data_protect_and_a_source_is_never_written()
    {
        var rig = new Rig();
        var src = MemoryBlockDevice.Random(9, 64, readOnly: true);
        var other = MemoryBlockDevice.Random(10, 64, readOnly: true);
        ushort s = rig.Block(src), o = rig.Block(other);
        var e = await Assert.ThrowsAsync<CopyAbortedException>(() => rig.Manager().ExecuteAsync(rig.List([new BlockToBlockSegment(s, o, 8, 0, 0)]), Ct));
        Assert.Equal((SenseKey.DataProtect, (byte)0x27, (byte)0x00), (e.Sense.Key, e.Sense.Asc, e.Sense.Ascq));
        Assert.Equal(0, other.Writes);
    }

    [Fact]
    public async Task Inexact_segment_without_CAT_or_PAD_is_refused_before_anything_is_written()
    {
        var rig = new Rig();
        var src = MemoryBlockDevice.Random(11, 10);
        var tape = new MemoryTapeDevice();
        ushort s = rig.Block(src), t = rig.Tape(tape, pad: false);
        var e = await Assert.ThrowsAsync<CopyAbortedException>(() => rig.Manager().ExecuteAsync(rig.List([new BlockToStreamSegment(s, t, 1000, 10, 0)]), Ct));
        Assert.Equal((SenseKey.CopyAborted, (byte)0x26, (byte)0x0A), (e.Sense.Key, e.Sense.Asc, e.Sense.Ascq));
        Assert.Empty(tape.Objects);
    }

    [Fact]
    public async Task CAT_on_the_last_segment_is_an_invalid_field_with_a_pointer_to_its_flags()
    {
        var rig = new Rig();
        var src = MemoryBlockDevice.Random(12, 10);
        var tape = new MemoryTapeDevice();
        ushort s = rig.Block(src), t = rig.Tape(tape, pad: true);
        var list = rig.List([new BlockToStreamSegment(s, t, 512, 10, 0) { Cat = true }]);
        var e = await Assert.ThrowsAsync<ExtendedCopyException>(() => rig.Manager().ExecuteAsync(list, Ct));
        Assert.Equal((SenseKey.IllegalRequest, (byte)0x26, (byte)0x00), (e.Sense.Key, e.Sense.Asc, e.Sense.Ascq));
        Assert.Equal((false, list.SegmentOffset(0) + 1, (int?)0), e.Sense.FieldPointer);
    }

    [Fact]
    public async Task Inline_and_embedded_data_filemarks_space_and_locate_drive_the_tape()
    {
        var rig = new Rig();
        var tape = new MemoryTapeDevice();
        ushort t = rig.Tape(tape, pad: true);
        byte[] inline = "HEADER-RECORD"u8.ToArray();
        var list = rig.List(
        [
            new InlineDataToStreamSegment(t, 64, 0, (uint)inline.Length),
            new WriteFilemarksSegment(t, 1),
            new EmbeddedDataToStreamSegment(t, 4, "abcdefghij"u8.ToArray()),
            new WriteFilemarksSegment(t, 2),
            new LocateSegment(t, 2),
            new SpaceSegment(t, 0, 1),
        ], inline: inline);
        var outcome = await rig.Manager().ExecuteAsync(list, Ct);
        Assert.Equal(6, outcome.SegmentsProcessed);
        Assert.Equal(inline.Length + 10, outcome.TransferredBytes);
        var objs = tape.Objects.Select(o => o is null ? "FM" : System.Text.Encoding.ASCII.GetString(o)).ToList();
        Assert.Equal(["HEADER-RECORD", "FM", "abcd", "efgh", "ij", "FM", "FM"], objs);
        Assert.Equal(new Core.Devices.TapePosition(1, 1), tape.Position);   // object 2 is the first record of file 1; then one record on
    }

    [Fact]
    public async Task Inline_data_beyond_the_inline_area_is_inline_data_length_exceeded()
    {
        var rig = new Rig();
        var tape = new MemoryTapeDevice();
        ushort t = rig.Tape(tape, pad: true);
        var list = rig.List([new InlineDataToStreamSegment(t, 64, 4, 10)], inline: new byte[12]);
        var e = await Assert.ThrowsAsync<CopyAbortedException>(() => rig.Manager().ExecuteAsync(list, Ct));
        Assert.Equal((SenseKey.CopyAborted, (byte)0x26, (byte)0x0B), (e.Sense.Key, e.Sense.Asc, e.Sense.Ascq));
    }

    [Fact]
    public async Task A_filemark_before_the_restore_has_its_blocks_is_a_data_underrun()
    {
        var rig = new Rig();
        var tape = new MemoryTapeDevice();
        await tape.WriteRecordAsync(new byte[1024], Ct);
        await tape.WriteFilemarksAsync(1, Ct);
        await tape.RewindAsync(Ct);
        var dst = MemoryBlockDevice.Blank(16);
        ushort t = rig.Tape(tape), d = rig.Block(dst);
        var e = await Assert.ThrowsAsync<CopyAbortedException>(() => rig.Manager().ExecuteAsync(rig.List([new StreamToBlockSegment(t, d, 1024, 4, 0)]), Ct));
        Assert.Equal((SenseKey.CopyAborted, (byte)0x0D, (byte)0x04), (e.Sense.Key, e.Sense.Asc, e.Sense.Ascq));
        Assert.Equal(0, e.SegmentsProcessed);
        Assert.Equal(0u, e.Sense.CommandSpecific);
    }

    [Fact]
    public async Task A_duplicate_list_id_while_the_first_runs_is_operation_in_progress_and_reuse_after_completion_replaces_results()
    {
        var rig = new Rig();
        var src = new GatedBlockDevice(MemoryBlockDevice.Random(13, 64));
        var dst = MemoryBlockDevice.Blank(64);
        ushort s = rig.Block(src), d = rig.Block(dst);
        var m = rig.Manager();
        var list = rig.List([new BlockToBlockSegment(s, d, 64, 0, 0)], listId: 9);
        var first = m.ExecuteAsync(list, Ct);
        await src.WaitForFirstReadAsync(first, Ct);
        Assert.Equal(CopyManagerStatus.InProgress, m.GetCopyStatus(9).Status);
        var e = await Assert.ThrowsAsync<ExtendedCopyException>(() => m.ExecuteAsync(list, Ct));
        Assert.Equal((SenseKey.IllegalRequest, (byte)0x00, (byte)0x16), (e.Sense.Key, e.Sense.Asc, e.Sense.Ascq));
        src.Open();
        await first;
        Assert.Equal(CopyManagerStatus.CompletedWithoutErrors, m.GetCopyStatus(9).Status);
        Assert.Equal(64u * 512, m.GetCopyStatus(9).TransferCount);

        var bad = rig.List([new BlockToBlockSegment(s, 5, 64, 0, 0)], listId: 9);
        await Assert.ThrowsAsync<CopyAbortedException>(() => m.ExecuteAsync(bad, Ct));
        Assert.Equal(CopyManagerStatus.CompletedWithErrors, m.GetCopyStatus(9).Status);
        Assert.False(m.GetFailedSegmentDetails(9).IsNone);
    }

    [Fact]
    public void Receive_copy_results_for_an_unknown_list_is_invalid_field_in_CDB_and_operating_parameters_always_answer()
    {
        var m = new Rig().Manager();
        var e = Assert.Throws<ExtendedCopyException>(() => m.ReceiveCopyResults(new ReceiveCopyResultsCdb(ReceiveCopyResultsServiceAction.CopyStatus, 1, 1024).ToBytes()));
        Assert.Equal((SenseKey.IllegalRequest, (byte)0x24, (byte)0x00), (e.Sense.Key, e.Sense.Asc, e.Sense.Ascq));
        var op = m.ReceiveCopyResults(new ReceiveCopyResultsCdb(ReceiveCopyResultsServiceAction.OperatingParameters, 0, 1024).ToBytes());
        Assert.Equal(OperatingParameters.Default, OperatingParameters.Read(op));
        var cut = m.ReceiveCopyResults(new ReceiveCopyResultsCdb(ReceiveCopyResultsServiceAction.OperatingParameters, 0, 8).ToBytes());
        Assert.Equal(op[..8], cut);
    }

    [Fact]
    public async Task Parameter_list_length_zero_is_good_and_does_nothing()
    {
        var m = new Rig().Manager();
        var outcome = await m.ExecuteCommandAsync(new ExtendedCopyCdb(0).ToBytes(), ReadOnlyMemory<byte>.Empty, Ct);
        Assert.Equal(CopyOutcome.Nothing, outcome);
        var e = await Assert.ThrowsAsync<ExtendedCopyException>(() => m.ExecuteCommandAsync(new ExtendedCopyCdb(8).ToBytes(), new byte[8], Ct));
        Assert.Equal((byte)0x1A, e.Sense.Asc);
    }

    [Fact]
    public async Task Hold_segments_keep_their_data_for_receive_data_up_to_the_limit()
    {
        var rig = new Rig();
        var src = MemoryBlockDevice.Random(14, 8);
        var tape = new MemoryTapeDevice();
        ushort s = rig.Block(src), t = rig.Tape(tape);
        var m = rig.Manager(new CopyManagerOptions { OperatingParameters = OperatingParameters.Default with { HeldDataLimitBytes = 1000 } });
        await m.ExecuteAsync(rig.List([new BlockToStreamSegment(s, t, 512, 8, 0) { Hold = true }], listId: 3), Ct);
        Assert.Equal(src.Data[..1000], m.GetHeldData(3));
        Assert.True(m.GetCopyStatus(3).HeldDataDiscarded);
    }

    [Fact]
    public async Task Byte_offset_segments_copy_unaligned_ranges_exactly()
    {
        var rig = new Rig();
        var src = MemoryBlockDevice.Random(15, 16);
        var dst = MemoryBlockDevice.Random(16, 16, readOnly: false);
        var before = dst.Data.ToArray();
        ushort s = rig.Block(src), d = rig.Block(dst);
        await rig.Manager().ExecuteAsync(rig.List([new BlockOffsetToBlockOffsetSegment(s, d, 1500, 2, 5, 100, 7)]), Ct);
        var expected = before.ToArray();
        src.Data.AsSpan(2 * 512 + 100, 1500).CopyTo(expected.AsSpan(5 * 512 + 7));
        Assert.Equal(expected, dst.Data);
    }
}
