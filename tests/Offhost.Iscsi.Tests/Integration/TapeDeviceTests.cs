using Offhost.Core.Devices;
using Offhost.Iscsi.Initiator;
using Offhost.Testing;

namespace Offhost.Iscsi.Tests.Integration;

[Trait("Category", "Integration")]
public sealed class TapeDeviceTests : IDisposable
{
    const string Iqn = "iqn.2024-01.org.offhost.test:tape";
    readonly TgtDaemon _tgt = new();
    readonly string _image;
    readonly string _smallImage;

    public TapeDeviceTests()
    {
        _tgt.AddTarget(1, Iqn);
        _image = _tgt.AddTape(1, 1, 64, "OFH001");
        _smallImage = _tgt.AddTape(1, 2, 1, "OFH002");
    }

    public void Dispose() => _tgt.Dispose();

    string Uri(int lun) => $"iscsi://{_tgt.Portal}/{Iqn}/{lun}";

    static IscsiInitiatorOptions Options => new() { CommandTimeout = TimeSpan.FromSeconds(30) };

    // file 0: three records, file 1: one record larger than MaxBurstLength, file 2: empty, file 3: two records
    static readonly int[][] Layout = [[1, 100, 65536], [300_000], [], [512, 7]];

    static byte[] Record(int file, int index, int length) => TestData.Random(file * 100 + index, length);

    async Task<IscsiTapeDevice> WriteLayoutAsync(CancellationToken ct)
    {
        var tape = await IscsiDevices.OpenTapeAsync(Uri(1), Options, ct);
        Assert.Equal(new TapePosition(0, 0), tape.Position);
        for (int f = 0; f < Layout.Length; f++)
        {
            for (int i = 0; i < Layout[f].Length; i++)
                Assert.Equal(TapeWriteStatus.Ok, await tape.WriteRecordAsync(Record(f, i, Layout[f][i]), ct));
            await tape.WriteFilemarksAsync(1, ct);
        }
        await tape.FlushAsync(ct);
        Assert.Equal(new TapePosition(Layout.Length, 0), tape.Position);
        return tape;
    }

    [Fact]
    public async Task Records_and_filemarks_round_trip_and_match_the_tgt_image()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var tape = await WriteLayoutAsync(ct);
        Assert.Equal(1024 * 1024, tape.MaxRecordBytes);
        Assert.Equal(Offhost.Scsi.Commands.PeripheralDeviceType.SequentialAccess, tape.Inquiry.DeviceType);

        // Ground truth: the cartridge file tgt wrote.
        var blocks = TgtTapeImage.Read(_image);
        var expected = new List<(bool Mark, byte[] Data)>();
        for (int f = 0; f < Layout.Length; f++)
        {
            for (int i = 0; i < Layout[f].Length; i++) expected.Add((false, Record(f, i, Layout[f][i])));
            expected.Add((true, []));
        }
        Assert.Equal(expected.Count + 1, blocks.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Mark, blocks[i].IsFilemark);
            if (!expected[i].Mark) Assert.True(expected[i].Data.AsSpan().SequenceEqual(blocks[i].Data), $"block {i}");
        }
        Assert.True(blocks[^1].IsEndOfData);

        await tape.RewindAsync(ct);
        var buffer = new byte[tape.MaxRecordBytes];
        for (int f = 0; f < Layout.Length; f++)
        {
            for (int i = 0; i < Layout[f].Length; i++)
            {
                Assert.Equal(new TapePosition(f, i), tape.Position);
                var r = await tape.ReadRecordAsync(buffer, ct);
                Assert.Equal(TapeReadKind.Record, r.Kind);
                Assert.Equal(Layout[f][i], r.LengthBytes);
                Assert.True(Record(f, i, Layout[f][i]).AsSpan().SequenceEqual(buffer.AsSpan(0, r.LengthBytes)));
            }
            Assert.Equal(TapeReadKind.Filemark, (await tape.ReadRecordAsync(buffer, ct)).Kind);
        }
        Assert.Equal(TapeReadKind.EndOfData, (await tape.ReadRecordAsync(buffer, ct)).Kind);
        Assert.Equal(new TapePosition(Layout.Length, 0), tape.Position);
        Assert.Equal(TapeReadKind.EndOfData, (await tape.ReadRecordAsync(buffer, ct)).Kind);
    }

    [Fact]
    public async Task Short_buffer_returns_the_true_record_length_and_moves_past_the_record()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var tape = await WriteLayoutAsync(ct);
        await tape.RewindAsync(ct);
        await tape.SpaceAsync(SpaceUnit.Records, 2, ct);
        var small = new byte[1000];
        var r = await tape.ReadRecordAsync(small, ct);
        Assert.Equal(new TapeReadResult(TapeReadKind.Record, 65536), r);
        Assert.True(Record(0, 2, 65536).AsSpan(0, 1000).SequenceEqual(small));
        Assert.Equal(new TapePosition(0, 3), tape.Position);
        Assert.Equal(TapeReadKind.Filemark, (await tape.ReadRecordAsync(small, ct)).Kind);
    }

    [Fact]
    public async Task Skipping_reports_every_record_length_and_moves_as_a_read_does()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var tape = await WriteLayoutAsync(ct);
        await tape.RewindAsync(ct);
        var scratch = new byte[1];
        for (int f = 0; f < Layout.Length; f++)
        {
            for (int i = 0; i < Layout[f].Length; i++)
            {
                Assert.Equal(new TapeReadResult(TapeReadKind.Record, Layout[f][i]), await tape.SkipRecordAsync(scratch, ct));
                Assert.Equal(new TapePosition(f, i + 1), tape.Position);
            }
            Assert.Equal(TapeReadKind.Filemark, (await tape.SkipRecordAsync(scratch, ct)).Kind);
        }
        Assert.Equal(TapeReadKind.EndOfData, (await tape.SkipRecordAsync(scratch, ct)).Kind);

        // A read after skips gets the right record whole.
        await tape.LocateAsync(new TapePosition(0, 2), ct);
        var buffer = new byte[tape.MaxRecordBytes];
        var r = await tape.ReadRecordAsync(buffer, ct);
        Assert.True(Record(0, 2, 65536).AsSpan().SequenceEqual(buffer.AsSpan(0, r.LengthBytes)));
    }

    [Fact]
    public async Task Space_and_locate_track_the_position_exactly()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var tape = await WriteLayoutAsync(ct);
        var buffer = new byte[tape.MaxRecordBytes];

        await tape.LocateAsync(new TapePosition(3, 1), ct);
        var r = await tape.ReadRecordAsync(buffer, ct);
        Assert.Equal(7, r.LengthBytes);
        Assert.True(Record(3, 1, 7).AsSpan().SequenceEqual(buffer.AsSpan(0, 7)));

        await tape.LocateAsync(new TapePosition(0, 1), ct);
        Assert.Equal(2, await tape.SpaceAsync(SpaceUnit.Records, 5, ct));    // stops at the filemark ending file 0
        Assert.Equal(new TapePosition(1, 0), tape.Position);

        Assert.Equal(2, await tape.SpaceAsync(SpaceUnit.Filemarks, 2, ct));
        Assert.Equal(new TapePosition(3, 0), tape.Position);
        Assert.Equal(-2, await tape.SpaceAsync(SpaceUnit.Filemarks, -2, ct));
        Assert.Equal(new TapePosition(1, 1), tape.Position);                 // end of file 1, before its filemark
        Assert.Equal(TapeReadKind.Filemark, (await tape.ReadRecordAsync(buffer, ct)).Kind);

        await tape.LocateAsync(new TapePosition(0, 3), ct);
        Assert.Equal(-2, await tape.SpaceAsync(SpaceUnit.Records, -2, ct));
        Assert.Equal(new TapePosition(0, 1), tape.Position);
        Assert.Equal(100, (await tape.ReadRecordAsync(buffer, ct)).LengthBytes);

        await tape.SpaceAsync(SpaceUnit.EndOfData, 0, ct);
        Assert.Equal(new TapePosition(4, 0), tape.Position);
        Assert.Equal(TapeReadKind.EndOfData, (await tape.ReadRecordAsync(buffer, ct)).Kind);

        await Assert.ThrowsAsync<IOException>(async () => await tape.LocateAsync(new TapePosition(0, 5), ct));
    }

    [Fact]
    public async Task Appending_at_end_of_data_after_reopen()
    {
        var ct = TestContext.Current.CancellationToken;
        await (await WriteLayoutAsync(ct)).DisposeAsync();
        await using var tape = await IscsiDevices.OpenTapeAsync(Uri(1), Options, ct);
        await tape.SpaceAsync(SpaceUnit.EndOfData, 0, ct);
        Assert.Equal(new TapePosition(4, 0), tape.Position);
        var extra = TestData.Random(999, 4096);
        await tape.WriteRecordAsync(extra, ct);
        await tape.WriteFilemarksAsync(1, ct);
        await tape.LocateAsync(new TapePosition(4, 0), ct);
        var buffer = new byte[8192];
        var r = await tape.ReadRecordAsync(buffer, ct);
        Assert.Equal(4096, r.LengthBytes);
        Assert.True(extra.AsSpan().SequenceEqual(buffer.AsSpan(0, 4096)));
    }

    [Fact]
    public async Task End_of_medium_is_an_early_warning_and_the_record_is_written()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var tape = await IscsiDevices.OpenTapeAsync(Uri(2), Options, ct);
        var record = TestData.Random(5, 64 * 1024);
        int written = 0;
        TapeWriteStatus status = TapeWriteStatus.Ok;
        while (status == TapeWriteStatus.Ok && written < 100)
        {
            status = await tape.WriteRecordAsync(record, ct);
            written++;
        }
        Assert.Equal(TapeWriteStatus.EarlyWarning, status);
        Assert.InRange(written, 16, 17);                                     // 1 MiB cartridge, 64 KiB records
        await tape.WriteFilemarksAsync(1, ct);
        var blocks = TgtTapeImage.Read(_smallImage);
        Assert.Equal(written, blocks.Count(b => b.IsData));
        Assert.True(record.AsSpan().SequenceEqual(blocks[written - 1].Data));
    }

    [Fact]
    public async Task A_drive_left_in_fixed_mode_is_switched_to_variable_records()
    {
        var ct = TestContext.Current.CancellationToken;
        await using (var tape = await IscsiDevices.OpenTapeAsync(Uri(1), Options, ct))
        {
            // Another client leaves the drive in fixed mode with 512-byte blocks.
            var parameters = Offhost.Scsi.Commands.ModeSelect6.BlockDescriptorList(0, 512);
            var select = await tape.Session.ExecuteAsync(new ScsiCommand
            {
                Cdb = Offhost.Scsi.Commands.ModeSelect6.Cdb((byte)parameters.Length), Lun = Offhost.Scsi.Commands.Lun.Encode(1),
                Name = "MODE SELECT(6)", DataOut = parameters,
            }, ct);
            Assert.True(select.IsGood, select.Sense?.ToString());
            var sense = new byte[255];
            var r = await tape.Session.ExecuteAsync(new ScsiCommand
            {
                Cdb = Offhost.Scsi.Commands.ModeSense6.Cdb(0, 255), Lun = Offhost.Scsi.Commands.Lun.Encode(1), Name = "MODE SENSE(6)", DataIn = sense,
            }, ct);
            Assert.Equal(512, Offhost.Scsi.Commands.ModeSense6.Parse(sense.AsSpan(0, r.DataInBytes)).BlockLengthBytes);
        }
        await using var reopened = await IscsiDevices.OpenTapeAsync(Uri(1), Options, ct);
        var after = new byte[255];
        var sensed = await reopened.Session.ExecuteAsync(new ScsiCommand
        {
            Cdb = Offhost.Scsi.Commands.ModeSense6.Cdb(0, 255), Lun = Offhost.Scsi.Commands.Lun.Encode(1), Name = "MODE SENSE(6)", DataIn = after,
        }, ct);
        Assert.Equal(0, Offhost.Scsi.Commands.ModeSense6.Parse(after.AsSpan(0, sensed.DataInBytes)).BlockLengthBytes);
        var odd = TestData.Random(77, 1001);
        Assert.Equal(TapeWriteStatus.Ok, await reopened.WriteRecordAsync(odd, ct));
        await reopened.RewindAsync(ct);
        var buffer = new byte[4096];
        var read = await reopened.ReadRecordAsync(buffer, ct);
        Assert.Equal(1001, read.LengthBytes);
        Assert.True(odd.AsSpan().SequenceEqual(buffer.AsSpan(0, 1001)));
    }

    [Fact]
    public async Task Unload_and_load_return_to_the_beginning()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var tape = await WriteLayoutAsync(ct);
        await tape.LoadAsync(false, ct);
        await tape.LoadAsync(true, ct);
        Assert.Equal(new TapePosition(0, 0), tape.Position);
        await tape.RewindAsync(ct);
        var buffer = new byte[16];
        Assert.Equal(1, (await tape.ReadRecordAsync(buffer, ct)).LengthBytes);
    }
}
