using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Label;
using Offhost.Formats.Tape.Simh;
using Offhost.Io.Tape;
using Offhost.Testing;

namespace Offhost.DataMover.Tests;

/// <summary>
/// A virtual tape written at its end through O_DIRECT: records read back exactly whatever the interleaving of reads,
/// writes and filemarks; the data stays out of the page cache; an image cut inside a record (a killed writer, a full
/// disk) is appended to from that record, and nothing before it is lost.
/// </summary>
public class SimhDirectAppendTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static VolumeLabel Label(long capacityBytes) =>
        new("DA0001", capacityBytes, 1 << 20, new MapTime(1_700_000_000, 0), Guid.Parse("0b7e1e55-0000-4000-8000-0000000000da"));

    static byte[] Record(int index, int lengthBytes) => TestData.Random(9000 + index, lengthBytes);

    static async Task<List<byte[]>> ReadFileAsync(SimhTapeDevice tape, long fileNumber)
    {
        await tape.LocateAsync(new TapePosition(fileNumber, 0), Ct);
        var records = new List<byte[]>();
        var buffer = new byte[SimhCodec.MaxRecordBytes];
        while (true)
        {
            var r = await tape.ReadRecordAsync(buffer, Ct);
            if (r.Kind != TapeReadKind.Record) return records;
            records.Add(buffer.AsSpan(0, r.LengthBytes).ToArray());
        }
    }

    static void RequireDirectIo(SimhTapeDevice tape, string path)
    {
        if (!tape.WritesDirect)
            Assert.Skip($"the file system under {Path.GetDirectoryName(path)} refuses O_DIRECT ({Tool.Run("stat", "-f", "-c", "%T", path).Trim()}); the buffered path is covered by the other tape tests");
    }

    [Fact]
    public async Task Records_appended_direct_read_back_exactly_between_reads_and_filemarks_and_bypass_the_page_cache()
    {
        using var scratch = new Scratch("simh-direct");
        string path = scratch["t.tap"];
        // Odd lengths (padding), records larger than one append buffer, and many small ones crossing buffer boundaries.
        int[] lengths = [1, 4095, 4097, (1 << 20) + 1, 9 << 20, 3, 65536, 1 << 20, 777_777, (4 << 20) - 8, 12345, 2 << 20, 1];
        var expected = new List<List<byte[]>> { new(), new() };
        await using (var tape = SimhTapeDevice.Create(path, Label(1L << 30)))
        {
            for (int i = 0; i < lengths.Length; i++)
            {
                int file = i < 7 ? 0 : 1;
                var data = Record(i, lengths[i]);
                await tape.WriteRecordAsync(data, Ct);
                RequireDirectIo(tape, path);
                expected[file].Add(data);
                if (i == 6) await tape.WriteFilemarksAsync(1, Ct);
                if (i == 4)
                {
                    // Read back in the middle of writing (a small record: reads go through the page cache), then carry on at the end.
                    await tape.LocateAsync(new TapePosition(1, 2), Ct);
                    var buffer = new byte[8192];
                    var r = await tape.ReadRecordAsync(buffer, Ct);
                    Assert.Equal(expected[0][2], buffer.AsSpan(0, r.LengthBytes).ToArray());
                    await tape.SpaceAsync(SpaceUnit.EndOfData, 1, Ct);
                }
            }
            await tape.WriteFilemarksAsync(1, Ct);
            await tape.FlushAsync(Ct);

            long imageBytes = new FileInfo(path).Length;
            Assert.Equal(tape.ImageBytes, imageBytes);
            long cachedBytes = long.Parse(Tool.Run("fincore", "--bytes", "--noheadings", "--output", "RES", path).Trim());
            Assert.True(cachedBytes < imageBytes / 4, $"{cachedBytes} of {imageBytes} bytes of the tape are in the page cache: the appends went through it");
        }
        await using var ro = SimhTapeDevice.Open(path, writable: false);
        Assert.Equal(expected[0], await ReadFileAsync(ro, 1));
        Assert.Equal(expected[1], await ReadFileAsync(ro, 2));
        var files = await ro.ScanAsync(Ct);
        Assert.Equal([1L, 7L, 6L], files.Select(f => f.Records));   // the label, then the two tape files written
    }

    [Theory]
    [InlineData(2)]       // inside the length word of the last record
    [InlineData(100)]     // inside its data
    [InlineData(-2)]      // inside its trailer
    public async Task A_tape_cut_inside_its_last_record_is_appended_to_from_that_record(int cutFromRecordStart)
    {
        using var scratch = new Scratch("simh-torn");
        string path = scratch["t.tap"];
        var a = Record(1, 5000);
        var b = Record(2, 70_001);
        var c = Record(3, 3000);
        long cStart;
        await using (var tape = SimhTapeDevice.Create(path, Label(64 << 20)))
        {
            await tape.WriteRecordAsync(a, Ct);
            await tape.WriteRecordAsync(b, Ct);
            cStart = tape.OffsetBytes;
            await tape.WriteRecordAsync(c, Ct);
            await tape.FlushAsync(Ct);
        }
        long cut = cutFromRecordStart > 0 ? cStart + cutFromRecordStart : new FileInfo(path).Length + cutFromRecordStart;
        using (var f = new FileStream(path, FileMode.Open)) f.SetLength(cut);

        await using (var ro = SimhTapeDevice.Open(path, writable: false))
        {
            var e = await Assert.ThrowsAsync<CorruptStructureException>(async () => await ReadFileAsync(ro, 1));
            Assert.Equal(cStart, e.DeviceOffset);
        }

        var d = Record(4, 123_457);
        await using (var tape = SimhTapeDevice.Open(path, writable: true))
        {
            await tape.SpaceAsync(SpaceUnit.EndOfData, 1, Ct);
            Assert.Equal(cStart, tape.TornTailOffsetBytes);
            Assert.Equal(new TapePosition(1, 2), tape.Position);
            await tape.WriteRecordAsync(d, Ct);
            await tape.WriteFilemarksAsync(1, Ct);
            await tape.FlushAsync(Ct);
        }
        await using var back = SimhTapeDevice.Open(path, writable: false);
        Assert.Equal([a, b, d], await ReadFileAsync(back, 1));
        await back.SpaceAsync(SpaceUnit.EndOfData, 1, Ct);
        Assert.Null(back.TornTailOffsetBytes);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task A_full_disk_under_the_tape_fails_the_write_with_its_offset_and_keeps_every_record_that_reached_the_disk()
    {
        Requires.Root();
        using var scratch = new Scratch("simh-full");
        string mount = scratch["small"];
        Directory.CreateDirectory(mount);
        Tool.Run("mount", "-t", "tmpfs", "-o", "size=16m", "offhost-test-full", mount);
        try
        {
            string path = Path.Combine(mount, "t.tap");
            var written = new List<byte[]>();
            IOException? failure = null;
            await using (var tape = SimhTapeDevice.Create(path, Label(1L << 30)))
            {
                for (int i = 0; i < 64 && failure is null; i++)
                {
                    var data = Record(100 + i, 700_001);
                    try
                    {
                        await tape.WriteRecordAsync(data, Ct);
                        written.Add(data);
                        if (i == 0 && !tape.WritesDirect) Assert.Skip("tmpfs here refuses O_DIRECT; the buffered path's full disk is the engine's own test");
                    }
                    catch (IOException e) { failure = e; }
                }
                if (failure is null)
                {
                    try { await tape.FlushAsync(Ct); }
                    catch (IOException e) { failure = e; }
                }
            }
            Assert.NotNull(failure);
            Assert.Contains("byte offset", failure.Message, StringComparison.Ordinal);

            // Every record that is whole in the image reads back as written; the image may end inside the next.
            await using var tape2 = SimhTapeDevice.Open(path, writable: true);
            await tape2.SpaceAsync(SpaceUnit.EndOfData, 1, Ct);
            long whole = tape2.Position.RecordInFile;
            Assert.True(whole > 0 && whole <= written.Count, $"{whole} records survived of {written.Count} written");
            await tape2.LocateAsync(new TapePosition(1, 0), Ct);
            var buffer = new byte[1 << 20];
            for (int i = 0; i < whole; i++)
            {
                var r = await tape2.ReadRecordAsync(buffer, Ct);
                Assert.Equal(written[i], buffer.AsSpan(0, r.LengthBytes).ToArray());
            }
        }
        finally
        {
            Tool.TryRun("umount", [mount]);
        }
    }
}
