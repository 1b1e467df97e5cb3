using FsCheck.Xunit;
using Offhost.DataMover.Tests.Fakes;
using Offhost.Scsi.ExtendedCopy;
using Offhost.Scsi.Sense;

namespace Offhost.DataMover.Tests;

/// <summary>Small block ranges scattered over the source (a directory's files) are read in device order a window at a
/// time, reading through small gaps, and still reach the tape in segment order.</summary>
public class DeviceOrderReadTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Segments of 1-16 blocks at scattered LBAs, some adjacent, some overlapping, with 4 KiB records.</summary>
    static (List<SegmentDescriptor> Segments, byte[] Expected) Scattered(MemoryBlockDevice src, int seed, int count)
    {
        var r = new Random(seed);
        var segments = new List<SegmentDescriptor>();
        var expected = new MemoryStream();
        long lba = r.Next(0, 1000);
        for (int i = 0; i < count; i++)
        {
            int blocks = r.Next(1, 17);
            lba = r.Next(4) switch
            {
                0 => lba,                                                   // right after the last one
                1 => Math.Max(0, lba - r.Next(0, 40)),                      // behind it, maybe overlapping
                _ => r.Next(0, (int)src.BlockCount - 16),                   // anywhere
            };
            lba = Math.Min(lba, src.BlockCount - 16);
            segments.Add(new BlockToStreamSegment(0, 1, 4096, (ushort)blocks, (ulong)lba) { Cat = true });
            expected.Write(src.Data, (int)lba * 512, blocks * 512);
            lba += blocks;
        }
        return (segments, expected.ToArray());
    }

    [Property(MaxTest = 40)]
    public async Task Scattered_small_ranges_reach_the_tape_in_segment_order(ushort seed)
    {
        var src = MemoryBlockDevice.Random(seed, 20_000);
        var (segments, expected) = Scattered(src, seed, 300);
        foreach (bool inDeviceOrder in new[] { true, false })
        {
            var rig = new Rig();
            var tape = new MemoryTapeDevice();
            ushort s = rig.Block(seed % 2 == 1 ? new SynchronousBlockDevice(src) : src), t = rig.Tape(tape, pad: true);
            var r = new Random(seed);
            var options = new CopyManagerOptions { ReadChunkBytes = 512 * r.Next(8, 4096), ReadsInFlight = r.Next(1, 4), ReadSmallPiecesInDeviceOrder = inDeviceOrder };
            await rig.Manager(options).ExecuteAsync(rig.List(segments[..^1].Append(((BlockToStreamSegment)segments[^1]) with { Cat = false })), Ct);
            Assert.InRange(tape.Data.Length - expected.Length, 0, 4095);                 // the last record is padded
            Assert.True(expected.AsSpan().SequenceEqual(tape.Data.AsSpan(0, expected.Length)), $"device order {inDeviceOrder}");
        }
    }

    [Fact]
    public async Task Windows_take_far_fewer_reads_than_pieces()
    {
        var src = MemoryBlockDevice.Random(9, 20_000);
        var (segments, expected) = Scattered(src, 9, 1000);
        int Reads(bool inDeviceOrder)
        {
            var counting = MemoryBlockDevice.Random(9, 20_000);
            var rig = new Rig();
            var tape = new MemoryTapeDevice();
            rig.Block(counting);
            rig.Tape(tape, pad: true);
            rig.Manager(new CopyManagerOptions { ReadSmallPiecesInDeviceOrder = inDeviceOrder })
                .ExecuteAsync(rig.List(segments[..^1].Append(((BlockToStreamSegment)segments[^1]) with { Cat = false })), Ct).GetAwaiter().GetResult();
            Assert.True(expected.AsSpan().SequenceEqual(tape.Data.AsSpan(0, expected.Length)));
            return counting.Reads;
        }
        int inOrder = Reads(false), sorted = Reads(true);
        Assert.True(sorted * 5 < inOrder, $"{sorted} reads in device order, {inOrder} in segment order");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_bad_block_between_pieces_is_skipped_and_one_inside_a_piece_aborts_naming_its_segment(bool synchronousSource)
    {
        var inner = MemoryBlockDevice.Random(11, 4000);
        // Five 4-block files, out of order, with gaps of 4-12 blocks between them on the device.
        long[] lbas = [300, 100, 200, 120, 220];
        var segments = lbas.Select((lba, i) => (SegmentDescriptor)new BlockToStreamSegment(0, 1, 2048, 4, (ulong)lba) { Cat = i < lbas.Length - 1 }).ToList();
        var expected = lbas.SelectMany(lba => inner.Data.AsSpan((int)lba * 512, 4 * 512).ToArray()).ToArray();

        async Task<(MemoryTapeDevice Tape, Exception? Error)> RunAsync(long badLba)
        {
            var rig = new Rig();
            var tape = new MemoryTapeDevice();
            rig.Block(synchronousSource ? new SynchronousBlockDevice(inner, badLba) : new FaultyBlockDevice(inner, badLba));
            rig.Tape(tape, pad: true);
            try
            {
                await rig.Manager().ExecuteAsync(rig.List(segments, listId: 3), Ct);
                return (tape, null);
            }
            catch (CopyAbortedException e) { return (tape, e); }
        }

        var (gapTape, gapError) = await RunAsync(badLba: 110);                  // between the files at 100 and 120
        Assert.Null(gapError);
        Assert.Equal(expected, gapTape.Data);

        var (_, error) = await RunAsync(badLba: 222);                           // inside the fifth file
        var e = Assert.IsType<CopyAbortedException>(error);
        Assert.Equal(4, e.SegmentIndex);
        Assert.Equal(222L * 512, e.DeviceByteOffset);
        Assert.Equal(SenseKey.CopyAborted, e.Sense.Key);
    }
}
