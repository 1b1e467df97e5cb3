using Offhost.Core.Devices;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Label;
using Offhost.Io.Tape;
using Offhost.Server.Restore;
using Offhost.Testing;

namespace Offhost.Server.Tests.Restore;

public class TapeFileReaderTests
{
    /// <summary>Counts the records read through it.</summary>
    sealed class Counting(IStreamDevice inner) : IStreamDevice
    {
        public int RecordsRead { get; private set; }
        public string DeviceId => inner.DeviceId;
        public int MaxRecordBytes => inner.MaxRecordBytes;
        public TapePosition Position => inner.Position;
        public ValueTask<TapeWriteStatus> WriteRecordAsync(ReadOnlyMemory<byte> record, CancellationToken ct) => inner.WriteRecordAsync(record, ct);
        public ValueTask WriteFilemarksAsync(int count, CancellationToken ct) => inner.WriteFilemarksAsync(count, ct);
        public ValueTask<TapeReadResult> ReadRecordAsync(Memory<byte> buffer, CancellationToken ct)
        {
            RecordsRead++;
            return inner.ReadRecordAsync(buffer, ct);
        }
        public ValueTask<long> SpaceAsync(SpaceUnit unit, long count, CancellationToken ct) => inner.SpaceAsync(unit, count, ct);
        public ValueTask RewindAsync(CancellationToken ct) => inner.RewindAsync(ct);
        public ValueTask LocateAsync(TapePosition position, CancellationToken ct) => inner.LocateAsync(position, ct);
        public ValueTask FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task A_range_is_read_from_the_record_that_holds_it_when_the_records_are_full_and_from_the_start_otherwise()
    {
        var ct = TestContext.Current.CancellationToken;
        using var scratch = new Scratch("tape-range");
        const int Record = 4096, Records = 200;
        byte[] file = TestData.Random(5, Record * Records + 1000);      // 200 full records and a short last one
        await using var simh = SimhTapeDevice.Create(scratch["r.tap"], new VolumeLabel("RNG001", 64L << 20, 1L << 20, new MapTime(1_700_000_000, 0), Guid.NewGuid()));
        await simh.SpaceAsync(SpaceUnit.EndOfData, 1, ct);
        long fileNumber = simh.Position.FileNumber;
        for (int at = 0; at < file.Length; at += Record)
            await simh.WriteRecordAsync(file.AsMemory(at, Math.Min(Record, file.Length - at)), ct);
        await simh.WriteFilemarksAsync(1, ct);
        var tape = new Counting(simh);

        var random = new Random(6);
        for (int i = 0; i < 50; i++)
        {
            int length = random.Next(0, 20_000), offset = random.Next(0, file.Length - length);
            int before = tape.RecordsRead;
            var located = await TapeFileReader.ReadRangeAsync(tape, fileNumber, offset, length, ct, Record);
            Assert.True(located.AsSpan().SequenceEqual(file.AsSpan(offset, length)), $"located read of {length} bytes at {offset}");
            Assert.True(tape.RecordsRead - before <= length / Record + 2, $"{tape.RecordsRead - before} records read for {length} bytes at {offset}");
            var sequential = await TapeFileReader.ReadRangeAsync(tape, fileNumber, offset, length, ct);
            Assert.True(sequential.AsSpan().SequenceEqual(file.AsSpan(offset, length)), $"read of {length} bytes at {offset} from the start");
        }
        // Records that are not all of the given size: the located read returns other bytes, which the caller's checksum rejects.
        var wrong = await TapeFileReader.ReadRangeAsync(tape, fileNumber, 300_000, 5000, ct, Record * 2);
        Assert.False(wrong.AsSpan().SequenceEqual(file.AsSpan(300_000, 5000)));
        await Assert.ThrowsAsync<InvalidDataException>(() => TapeFileReader.ReadRangeAsync(tape, fileNumber, file.Length - 10, 20, ct, Record));
    }
}
