using FsCheck.Xunit;
using Offhost.DataMover.Tests.Fakes;
using Offhost.Scsi.ExtendedCopy;
using Offhost.Scsi.Sense;

namespace Offhost.DataMover.Tests;

/// <summary>Whatever list an application client sends, the copy manager answers with a result or with sense data:
/// never another exception, never a hang, never a write to a read-only source.</summary>
public class HostileListTests
{
    static readonly byte[] SegmentTypes = [0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0F, 0x10, 0x11, 0x12];

    static SegmentDescriptor RandomSegment(Random r)
    {
        ushort Id() => (ushort)(r.Next(10) == 0 ? r.Next(0, 65536) : r.Next(0, 5));
        int Len() => r.Next(6) switch { 0 => 0, 1 => r.Next(1, 0x100_0000), _ => r.Next(1, 5000) };
        ushort Blocks() => (ushort)(r.Next(8) == 0 ? r.Next(0, 65536) : r.Next(0, 80));
        ulong Lba() => r.Next(8) == 0 ? (ulong)r.NextInt64() : (ulong)r.Next(0, 300);
        uint Bytes() => r.Next(8) == 0 ? (uint)r.NextInt64(0, 1L << 32) : (uint)r.Next(0, 70_000);
        ushort Off() => (ushort)(r.Next(4) == 0 ? r.Next(0, 65536) : r.Next(0, 512));
        bool cat = r.Next(3) == 0;
        byte type = SegmentTypes[r.Next(SegmentTypes.Length)];
        return type switch
        {
            0x00 or 0x0B => new BlockToStreamSegment(Id(), Id(), Len(), Blocks(), Lba()) { Cat = cat, Hold = type == 0x0B },
            0x01 or 0x0C => new StreamToBlockSegment(Id(), Id(), Len(), Blocks(), Lba()) { Cat = cat, Hold = type == 0x0C },
            0x02 or 0x0D => new BlockToBlockSegment(Id(), Id(), Blocks(), Lba(), Lba()) { Cat = cat, Dc = r.Next(2) == 0, Hold = type == 0x0D },
            0x04 => new InlineDataToStreamSegment(Id(), Len(), (uint)r.Next(0, 100), Bytes()) { Cat = cat },
            0x05 => new EmbeddedDataToStreamSegment(Id(), Len(), new byte[r.Next(0, 40)]) { Cat = cat },
            0x06 or 0x0F => new StreamToDiscardSegment(Id(), Len(), Bytes()) { Cat = cat, Hold = type == 0x0F },
            0x07 => new VerifyCscdSegment(Id(), r.Next(2) == 0),
            0x08 => new BlockOffsetToStreamSegment(Id(), Id(), Len(), Bytes(), Lba(), Off()) { Cat = cat },
            0x09 => new StreamToBlockOffsetSegment(Id(), Id(), Len(), Bytes(), Lba(), Off()) { Cat = cat },
            0x0A => new BlockOffsetToBlockOffsetSegment(Id(), Id(), Bytes(), Lba(), Lba(), Off(), Off()) { Cat = cat },
            0x10 => new WriteFilemarksSegment(Id(), r.Next(0, 4)) { Wsmk = r.Next(5) == 0 },
            0x11 => new SpaceSegment(Id(), (byte)r.Next(0, 8), r.Next(-5, 6)),
            _ => new LocateSegment(Id(), (uint)r.Next(0, 10)),
        };
    }

    [Property(MaxTest = 400)]
    public async Task Random_lists_end_in_a_result_or_in_sense_data(int seed)
    {
        var r = new Random(seed);
        var rig = new Rig();
        var source = MemoryBlockDevice.Random(seed, 256, "source", readOnly: true);
        var disk = MemoryBlockDevice.Blank(256, "disk");
        var big = MemoryBlockDevice.Blank(64, "disk4k", blockSizeBytes: 4096);
        var tape = new MemoryTapeDevice(capacityBytes: r.Next(0, 200_000), earlyWarningBytes: r.Next(0, 300_000)) { MaxRecordBytes = 1 << 20 };
        await tape.WriteRecordAsync(new byte[r.Next(1, 3000)], TestContext.Current.CancellationToken);
        await tape.WriteFilemarksAsync(1, TestContext.Current.CancellationToken);
        await tape.RewindAsync(TestContext.Current.CancellationToken);
        var sourceBefore = source.Data.ToArray();
        rig.Block(source, pad: r.Next(2) == 0);
        rig.Tape(tape, pad: r.Next(2) == 0);
        rig.Block(disk, pad: r.Next(2) == 0);
        rig.Block(big);
        var segments = Enumerable.Range(0, r.Next(1, 8)).Select(_ => RandomSegment(r)).ToList();
        var list = rig.List(segments, inline: new byte[r.Next(0, 64)]);
        var m = rig.Manager(new CopyManagerOptions { ReadChunkBytes = 512 * r.Next(1, 20), ReadsInFlight = r.Next(1, 4) });
        try
        {
            var outcome = await m.ExecuteAsync(list.ToBytes(), TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            Assert.Equal(segments.Count, outcome.SegmentsProcessed);
        }
        catch (CopyAbortedException e)
        {
            Assert.Contains(e.Sense.Key, new[] { SenseKey.CopyAborted, SenseKey.DataProtect });
            Assert.InRange(e.SegmentsProcessed, 0, e.SegmentIndex);
        }
        catch (ExtendedCopyException e)
        {
            Assert.Equal(SenseKey.IllegalRequest, e.Sense.Key);
        }
        Assert.Equal(sourceBefore, source.Data);
        Assert.Equal(0, source.Writes);
    }
}
