using Offhost.Core.Devices;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Label;
using Offhost.Io.Block;
using Offhost.Io.Tape;
using Offhost.Scsi.ExtendedCopy;
using Offhost.Testing;

namespace Offhost.DataMover.Tests;

/// <summary>The engine against the product's SIMH tape images and image files: nothing in between is a test double.</summary>
public class SimhTapeTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static VolumeLabel Label(long capacityBytes, long earlyWarningBytes) =>
        new("XC0001", capacityBytes, earlyWarningBytes, new MapTime(1_700_000_000, 0), Guid.Parse("0b7e1e55-0000-4000-8000-000000000001"));

    static async Task<byte[]> ReadTapeFileAsync(string tapePath, long fileNumber)
    {
        await using var tape = SimhTapeDevice.Open(tapePath, writable: false);
        await tape.LocateAsync(new TapePosition(fileNumber, 0), Ct);
        var data = new MemoryStream();
        var buffer = new byte[1 << 20];
        while (true)
        {
            var r = await tape.ReadRecordAsync(buffer, Ct);
            if (r.Kind != TapeReadKind.Record) return data.ToArray();
            data.Write(buffer, 0, r.LengthBytes);
        }
    }

    [Fact]
    public async Task Image_to_SIMH_tape_and_back_is_byte_identical()
    {
        using var scratch = new Scratch("xcopy-simh");
        string img = scratch["disk.img"], tapePath = scratch["tape.tap"], back = scratch["back.img"];
        var source = TestData.Random(50, 5 << 20);
        await File.WriteAllBytesAsync(img, source, Ct);
        await File.WriteAllBytesAsync(back, new byte[5 << 20], Ct);
        await using (var src = FileBlockDevice.Open(img))
        await using (var tape = SimhTapeDevice.Create(tapePath, Label(64 << 20, 1 << 20)))
        {
            var rig = new Rig();
            ushort s = rig.Block(src), t = rig.Tape(tape, pad: true);
            var outcome = await rig.Manager().ExecuteAsync(rig.List(Rig.Backup(s, t, src.BlockCount, 3333, 96 << 10)), Ct);
            Assert.Equal(5L << 20, outcome.TransferredBytes);
            await tape.WriteFilemarksAsync(1, Ct);
        }
        Assert.Equal(source, await ReadTapeFileAsync(tapePath, 1));

        await using (var tape = SimhTapeDevice.Open(tapePath, writable: false))
        await using (var dst = FileBlockDevice.Open(back, new FileBlockDeviceOptions { Writable = true }))
        {
            var rig = new Rig();
            ushort t = rig.Tape(tape, pad: true), d = rig.Block(dst);
            // LOCATE to logical object 2: the label record is object 0, its filemark object 1.
            await rig.Manager().ExecuteAsync(rig.List([new LocateSegment(t, 2), .. Rig.Restore(t, d, dst.BlockCount, 4000, 96 << 10)]), Ct);
        }
        Assert.Equal(source, await File.ReadAllBytesAsync(back, Ct));
    }

    [Fact]
    public async Task A_SIMH_tape_that_fills_holds_exactly_the_reported_prefix_of_the_image()
    {
        using var scratch = new Scratch("xcopy-simh-full");
        string img = scratch["disk.img"], tapePath = scratch["small.tap"];
        var source = TestData.Random(51, 4 << 20);
        await File.WriteAllBytesAsync(img, source, Ct);
        CopyAbortedException e;
        await using (var src = FileBlockDevice.Open(img))
        await using (var tape = SimhTapeDevice.Create(tapePath, Label(2 << 20, 256 << 10)))
        {
            var rig = new Rig();
            ushort s = rig.Block(src), t = rig.Tape(tape, pad: true);
            e = await Assert.ThrowsAsync<CopyAbortedException>(() => rig.Manager().ExecuteAsync(rig.List(Rig.Backup(s, t, src.BlockCount, 1024, 64 << 10)), Ct));
            await tape.WriteFilemarksAsync(1, Ct);                  // the reserve past early warning closes the tape file
        }
        Assert.True(e.EndOfMedium);
        var onTape = await ReadTapeFileAsync(tapePath, 1);
        Assert.Equal(e.TransferredBytes, onTape.Length);
        Assert.InRange(onTape.Length, 1 << 20, 2 << 20);
        Assert.Equal(source.AsSpan(0, onTape.Length).ToArray(), onTape);
        Assert.Equal(onTape.Length / (512 * 1024), e.SegmentsProcessed);
    }

    [Fact]
    public async Task A_backup_longer_than_the_write_behind_windows_and_a_shorter_rewrite_read_back_identically()
    {
        using var scratch = new Scratch("xcopy-simh-long");
        string img = scratch["disk.img"], tapePath = scratch["tape.tap"];
        var source = TestData.Random(52, 40 << 20);                    // 2.5 write-behind windows
        await File.WriteAllBytesAsync(img, source, Ct);
        await using (var src = FileBlockDevice.Open(img))
        await using (var tape = SimhTapeDevice.Create(tapePath, Label(256 << 20, 1 << 20)))
        {
            var rig = new Rig();
            ushort s = rig.Block(src), t = rig.Tape(tape, pad: true);
            var m = rig.Manager(new CopyManagerOptions { ReadChunkBytes = 3 << 20 });
            // Two lists on one copy manager (the second reuses the first one's read buffers), then the archive's filemark.
            long half = src.BlockCount / 2;
            await m.ExecuteAsync(rig.List(Rig.Backup(s, t, half, 65535, 1 << 20)), Ct);
            var rest = Rig.Backup(s, t, src.BlockCount - half, 65535, 1 << 20).Cast<BlockToStreamSegment>()
                .Select(d => d with { BlockDeviceLogicalBlockAddress = d.BlockDeviceLogicalBlockAddress + (ulong)half });
            await m.ExecuteAsync(rig.List(rest, listId: 2), Ct);
            await tape.WriteFilemarksAsync(1, Ct);
            await tape.FlushAsync(Ct);
        }
        Assert.Equal(source, await ReadTapeFileAsync(tapePath, 1));

        // Rewriting tape file 1 with less data cuts the image after it, as a drive forgets what followed the last write.
        await using (var tape = SimhTapeDevice.Open(tapePath, writable: true))
        {
            await tape.LocateAsync(new TapePosition(1, 0), Ct);
            for (int at = 0; at < 20 << 20; at += 1 << 20)
                await tape.WriteRecordAsync(source.AsMemory(at + (7 << 20), 1 << 20), Ct);
            await tape.WriteFilemarksAsync(1, Ct);
            await tape.FlushAsync(Ct);
        }
        Assert.Equal(source.AsSpan(7 << 20, 20 << 20).ToArray(), await ReadTapeFileAsync(tapePath, 1));
        await using (var tape = SimhTapeDevice.Open(tapePath, writable: false))
        {
            await tape.LocateAsync(new TapePosition(2, 0), Ct);
            Assert.Equal(TapeReadKind.EndOfData, (await tape.ReadRecordAsync(new byte[16], Ct)).Kind);
        }
    }
}
