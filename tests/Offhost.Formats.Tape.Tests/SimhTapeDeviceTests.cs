using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Label;
using Offhost.Formats.Tape.Simh;
using Offhost.Io.Tape;
using Offhost.Testing;

namespace Offhost.Formats.Tape.Tests;

public sealed class SimhTapeDeviceTests : IDisposable
{
    readonly Scratch scratch = new("simh-device");
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => scratch.Dispose();

    static VolumeLabel Label(long capacity, long earlyWarning) =>
        new("TST001", capacity, earlyWarning, new MapTime(1_700_000_000, 0), Guid.NewGuid());

    static byte[] Rec(int seed, int length) => TestData.Random(seed, length);

    static async Task<byte[]> ReadRecord(IStreamDevice d, TapeReadKind expect = TapeReadKind.Record, int bufferBytes = 1 << 20)
    {
        var buffer = new byte[bufferBytes];
        var r = await d.ReadRecordAsync(buffer, Ct);
        Assert.Equal(expect, r.Kind);
        return buffer.AsSpan(0, Math.Min(r.LengthBytes, bufferBytes)).ToArray();
    }

    /// <summary>Tape with label, then file 1 = records a,b,c; file 2 = record d (odd length); EOD.</summary>
    async Task<(SimhTapeDevice Device, byte[][] Records)> TwoFiles(string name)
    {
        var d = SimhTapeDevice.Create(scratch[name], Label(1 << 20, 4096));
        byte[][] r = [Rec(1, 1000), Rec(2, 4096), Rec(3, 1), Rec(4, 777)];
        Assert.Equal(new TapePosition(1, 0), d.Position);
        foreach (var x in r[..3]) await d.WriteRecordAsync(x, Ct);
        await d.WriteFilemarksAsync(1, Ct);
        await d.WriteRecordAsync(r[3], Ct);
        await d.WriteFilemarksAsync(1, Ct);
        return (d, r);
    }

    [Fact]
    public async Task Written_image_is_strict_SIMH_and_reads_back()
    {
        var (d, r) = await TwoFiles("a.tap");
        await using (d) await d.FlushAsync(Ct);
        byte[] image = await File.ReadAllBytesAsync(scratch["a.tap"], Ct);
        // The codec's independent walk sees: label, TM, 3 records, TM, 1 record, TM.
        var kinds = new List<(SimhObjectKind, int)>();
        for (long at = 0; ;)
        {
            var o = SimhCodec.ReadObject(image, at);
            if (o.Kind == SimhObjectKind.EndOfMedium) break;
            Assert.Equal(o.TotalBytes, SimhCodec.EncodedRecordBytes(o.DataBytes) is var t && o.Kind == SimhObjectKind.Record ? t : 4);
            kinds.Add((o.Kind, o.DataBytes));
            at = o.EndOffsetBytes;
        }
        Assert.Equal([(SimhObjectKind.Record, 512), (SimhObjectKind.TapeMark, 0), (SimhObjectKind.Record, 1000), (SimhObjectKind.Record, 4096),
            (SimhObjectKind.Record, 1), (SimhObjectKind.TapeMark, 0), (SimhObjectKind.Record, 777), (SimhObjectKind.TapeMark, 0)], kinds);

        await using var ro = SimhTapeDevice.Open(scratch["a.tap"], writable: false);
        Assert.Equal("TST001", ro.Label!.VolumeId);
        Assert.Equal(512, (await ReadRecord(ro)).Length);
        await ReadRecord(ro, TapeReadKind.Filemark);
        Assert.Equal(new TapePosition(1, 0), ro.Position);
        foreach (var x in r[..3]) Assert.Equal(x, await ReadRecord(ro));
        Assert.Equal(new TapePosition(1, 3), ro.Position);
        await ReadRecord(ro, TapeReadKind.Filemark);
        Assert.Equal(r[3], await ReadRecord(ro));
        await ReadRecord(ro, TapeReadKind.Filemark);
        Assert.Equal(new TapePosition(3, 0), ro.Position);
        await ReadRecord(ro, TapeReadKind.EndOfData);
        await ReadRecord(ro, TapeReadKind.EndOfData);
        Assert.Equal(new TapePosition(3, 0), ro.Position);
    }

    [Fact]
    public async Task Record_longer_than_the_buffer_loses_its_tail_and_reports_its_true_length()
    {
        var (d, r) = await TwoFiles("b.tap");
        await using (d)
        {
            await d.LocateAsync(new TapePosition(1, 1), Ct);
            var buffer = new byte[100];
            var res = await d.ReadRecordAsync(buffer, Ct);
            Assert.Equal(new TapeReadResult(TapeReadKind.Record, 4096), res);
            Assert.Equal(r[1][..100], buffer);
            Assert.Equal(r[2], await ReadRecord(d)); // the next read starts at the next record
        }
    }

    [Fact]
    public async Task Space_locate_and_rewind_follow_SSC_semantics()
    {
        var (d, r) = await TwoFiles("c.tap");
        await using var _ = d;
        await d.RewindAsync(Ct);
        Assert.Equal(new TapePosition(0, 0), d.Position);
        Assert.Equal(2, await d.SpaceAsync(SpaceUnit.Filemarks, 2, Ct));
        Assert.Equal(new TapePosition(2, 0), d.Position);
        Assert.Equal(r[3], await ReadRecord(d));

        await d.LocateAsync(new TapePosition(1, 0), Ct);
        Assert.Equal(2, await d.SpaceAsync(SpaceUnit.Records, 2, Ct));
        Assert.Equal(r[2], await ReadRecord(d));
        // Forward record spacing stops after the filemark it meets.
        Assert.Equal(0, await d.SpaceAsync(SpaceUnit.Records, 5, Ct));
        Assert.Equal(new TapePosition(2, 0), d.Position);
        // Backward record spacing stops on the BOT side of a filemark, inside the previous file.
        Assert.Equal(0, await d.SpaceAsync(SpaceUnit.Records, -1, Ct));
        Assert.Equal(new TapePosition(1, 3), d.Position);
        Assert.Equal(2, await d.SpaceAsync(SpaceUnit.Records, -2, Ct));
        Assert.Equal(new TapePosition(1, 1), d.Position);
        Assert.Equal(r[1], await ReadRecord(d));
        // Backward filemark spacing: position at the end of the previous file.
        await d.LocateAsync(new TapePosition(2, 1), Ct);
        Assert.Equal(1, await d.SpaceAsync(SpaceUnit.Filemarks, -1, Ct));
        Assert.Equal(new TapePosition(1, 3), d.Position);
        await ReadRecord(d, TapeReadKind.Filemark);
        // Backwards past BOT stops at BOT.
        await d.LocateAsync(new TapePosition(0, 1), Ct);
        Assert.Equal(1, await d.SpaceAsync(SpaceUnit.Records, -5, Ct));
        Assert.Equal(new TapePosition(0, 0), d.Position);
        // End of data.
        Assert.Equal(3, await d.SpaceAsync(SpaceUnit.EndOfData, 0, Ct));
        Assert.Equal(new TapePosition(3, 0), d.Position);
        await ReadRecord(d, TapeReadKind.EndOfData);
        // Locate beyond the data fails clearly.
        await Assert.ThrowsAnyAsync<IOException>(async () => await d.LocateAsync(new TapePosition(9, 0), Ct));
        await Assert.ThrowsAnyAsync<IOException>(async () => await d.LocateAsync(new TapePosition(1, 4), Ct));
    }

    [Fact]
    public async Task Writing_truncates_everything_after_the_new_record()
    {
        var (d, r) = await TwoFiles("d.tap");
        await using (d)
        {
            await d.LocateAsync(new TapePosition(1, 1), Ct);
            byte[] x = Rec(9, 333);
            await d.WriteRecordAsync(x, Ct);
            await d.WriteFilemarksAsync(1, Ct);
            await d.RewindAsync(Ct);
            var files = await d.ScanAsync(Ct);
            Assert.Equal([(0L, 1L), (1L, 2L)], files.Where(f => f.EndedByFilemark).Select(f => (f.FileNumber, f.Records)));
            await d.LocateAsync(new TapePosition(1, 0), Ct);
            Assert.Equal(r[0], await ReadRecord(d));
            Assert.Equal(x, await ReadRecord(d));
            await ReadRecord(d, TapeReadKind.Filemark);
            await ReadRecord(d, TapeReadKind.EndOfData);
            await Assert.ThrowsAnyAsync<IOException>(async () => await d.LocateAsync(new TapePosition(3, 0), Ct));
        }
        long expected = (8 + 512) + 4 + (8 + 1000) + (8 + 333 + 1) + 4; // label, TM, two records, TM
        Assert.Equal(expected, new FileInfo(scratch["d.tap"]).Length);
    }

    [Fact]
    public async Task Early_warning_then_end_of_medium_with_nothing_lost()
    {
        const long capacity = 64 * 1024;
        const long earlyWarning = 16 * 1024;
        var d = SimhTapeDevice.Create(scratch["e.tap"], Label(capacity, earlyWarning));
        var written = new List<byte[]>();
        var statuses = new List<TapeWriteStatus>();
        await using (d)
        {
            for (int i = 0; ; i++)
            {
                byte[] rec = Rec(100 + i, 3000 + i);
                long before = new FileInfo(scratch["e.tap"]).Length;
                try
                {
                    statuses.Add(await d.WriteRecordAsync(rec, Ct));
                    written.Add(rec);
                }
                catch (EndOfMediumException)
                {
                    // Nothing of the refused record reached the medium.
                    Assert.Equal(before, new FileInfo(scratch["e.tap"]).Length);
                    break;
                }
            }
            // The writer can always close the file.
            await d.WriteFilemarksAsync(2, Ct);
            Assert.True(new FileInfo(scratch["e.tap"]).Length <= capacity);
        }
        Assert.Equal(TapeWriteStatus.Ok, statuses[0]);
        Assert.Equal(TapeWriteStatus.EarlyWarning, statuses[^1]);
        int firstWarning = statuses.IndexOf(TapeWriteStatus.EarlyWarning);
        Assert.True(statuses.Skip(firstWarning).All(s => s == TapeWriteStatus.EarlyWarning));
        Assert.True(firstWarning >= 10 && firstWarning < written.Count - 1, $"warning at {firstWarning} of {written.Count}");

        await using var ro = SimhTapeDevice.Open(scratch["e.tap"], writable: false);
        await ro.LocateAsync(new TapePosition(1, 0), Ct);
        foreach (var w in written) Assert.Equal(w, await ReadRecord(ro));
        await ReadRecord(ro, TapeReadKind.Filemark);
    }

    [Fact]
    public async Task Label_cannot_be_overwritten_and_read_only_refuses_writes()
    {
        await using (var d = SimhTapeDevice.Create(scratch["f.tap"], Label(1 << 20, 4096)))
        {
            await d.RewindAsync(Ct);
            await Assert.ThrowsAnyAsync<IOException>(async () => await d.WriteRecordAsync(new byte[10], Ct));
            await Assert.ThrowsAnyAsync<IOException>(async () => await d.WriteFilemarksAsync(1, Ct));
        }
        var e = Assert.Throws<UserFacingException>(() => SimhTapeDevice.Create(scratch["f.tap"], Label(1 << 20, 4096)));
        Assert.Equal(2, e.ExitCode);
        await using var ro = SimhTapeDevice.Open(scratch["f.tap"], writable: false);
        await ro.SpaceAsync(SpaceUnit.EndOfData, 0, Ct);
        await Assert.ThrowsAnyAsync<IOException>(async () => await ro.WriteRecordAsync(new byte[10], Ct));
    }

    [Fact]
    public async Task Foreign_image_with_gaps_bad_records_and_E11_records_is_read_tolerantly()
    {
        // erase gap, odd record unpadded (E11), bad-flagged record, tape mark, record, then an EOM marker and junk.
        byte[] image =
        [
            0xFE, 0xFF, 0xFF, 0xFF,
            3, 0, 0, 0, 1, 2, 3, 3, 0, 0, 0,
            2, 0, 0, 0x80, 9, 9, 2, 0, 0, 0x80,
            0, 0, 0, 0,
            2, 0, 0, 0, 7, 8, 2, 0, 0, 0,
            0xFF, 0xFF, 0xFF, 0xFF, 0x12, 0x34,
        ];
        await File.WriteAllBytesAsync(scratch["g.tap"], image, Ct);
        await using var d = SimhTapeDevice.Open(scratch["g.tap"], writable: false);
        Assert.Null(d.Label);
        Assert.Equal(new byte[] { 1, 2, 3 }, await ReadRecord(d));
        var bad = await Assert.ThrowsAsync<TapeMediumException>(async () => await d.ReadRecordAsync(new byte[10], Ct));
        Assert.Equal(15, bad.OffsetBytes);
        await ReadRecord(d, TapeReadKind.Filemark);
        Assert.Equal(new byte[] { 7, 8 }, await ReadRecord(d));
        await ReadRecord(d, TapeReadKind.EndOfData);
    }

    [Fact]
    public async Task Damaged_image_raises_an_error_naming_the_offset()
    {
        byte[] image = [4, 0, 0, 0, 1, 2, 3, 4, 5, 0, 0, 0];
        await File.WriteAllBytesAsync(scratch["h.tap"], image, Ct);
        await using var d = SimhTapeDevice.Open(scratch["h.tap"], writable: false);
        var e = await Assert.ThrowsAsync<CorruptStructureException>(async () => await d.ReadRecordAsync(new byte[10], Ct));
        Assert.Equal(8, e.DeviceOffset);
    }

    [Fact]
    public async Task File_stream_device_concatenates_records()
    {
        await using (var w = FileStreamDevice.CreateWrite(scratch["plain.bin"]))
        {
            await w.WriteRecordAsync(new byte[] { 1, 2, 3 }, Ct);
            await w.WriteFilemarksAsync(1, Ct);
            await w.WriteRecordAsync(new byte[] { 4 }, Ct);
            Assert.Equal(new TapePosition(1, 1), w.Position);
            await w.FlushAsync(Ct);
        }
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, await File.ReadAllBytesAsync(scratch["plain.bin"], Ct));
        await using var r = FileStreamDevice.OpenRead(scratch["plain.bin"]);
        Assert.Equal(new byte[] { 1, 2 }, await ReadRecord(r, bufferBytes: 2));
        Assert.Equal(new byte[] { 3, 4 }, await ReadRecord(r, bufferBytes: 2));
        await ReadRecord(r, TapeReadKind.EndOfData);
        await Assert.ThrowsAsync<NotSupportedException>(async () => await r.SpaceAsync(SpaceUnit.Records, 1, Ct));
    }
}
