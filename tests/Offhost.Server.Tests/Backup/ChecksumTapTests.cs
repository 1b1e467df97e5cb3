using System.IO.Hashing;
using Offhost.Core.Devices;
using Offhost.Server.Backup;
using Offhost.Server.Planning;
using Offhost.Testing;

namespace Offhost.Server.Tests.Backup;

public class ChecksumTapTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Keeps the records written; the write numbered <paramref name="failAtWrite"/> (1-based) fails with an I/O error.</summary>
    sealed class RecordingTape(int failAtWrite = 0) : IStreamDevice
    {
        public MemoryStream Data { get; } = new();
        int writes;

        public string DeviceId => "recording-tape";
        public int MaxRecordBytes => 16 << 20;
        public TapePosition Position => new(1, writes);

        public ValueTask<TapeWriteStatus> WriteRecordAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
        {
            if (++writes == failAtWrite) throw new IOException("write error");
            Data.Write(record.Span);
            return ValueTask.FromResult(TapeWriteStatus.Ok);
        }

        public ValueTask WriteFilemarksAsync(int count, CancellationToken cancellationToken) => ValueTask.CompletedTask;
        public ValueTask<TapeReadResult> ReadRecordAsync(Memory<byte> buffer, CancellationToken cancellationToken) => throw new NotSupportedException();
        public ValueTask<long> SpaceAsync(SpaceUnit unit, long count, CancellationToken cancellationToken) => throw new NotSupportedException();
        public ValueTask RewindAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
        public ValueTask LocateAsync(TapePosition position, CancellationToken cancellationToken) => throw new NotSupportedException();
        public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>An archive of 4 MiB + 1000 bytes holding a sparse stream (1 MiB stored, 1 MiB hole, 1 MiB stored, 512 KiB hole at
    /// the end) and a small stream after it, with header bytes around them; and the checksums of the streams' logical bytes.</summary>
    static (byte[] Archive, PlannedStream[] Streams, ulong[] Expected) Archive()
    {
        var archive = TestData.Random(7, (4 << 20) + 1000);
        const int MiB = 1 << 20;
        var sparse = new PlannedStream("sparse", 3 * MiB + MiB / 2, 0, 512,
            [new StoredRange(0, 512, MiB), new StoredRange(2 * MiB, 512 + MiB, MiB)]);
        var small = new PlannedStream("small", 1000, 0, 3 * MiB, [new StoredRange(0, 3 * MiB, 1000)]);
        var logical = new byte[sparse.SizeBytes];
        archive.AsSpan(512, MiB).CopyTo(logical);
        archive.AsSpan(512 + MiB, MiB).CopyTo(logical.AsSpan(2 * MiB));
        return (archive, [sparse, small], [XxHash64.HashToUInt64(logical), XxHash64.HashToUInt64(archive.AsSpan(3 * MiB, 1000))]);
    }

    [Theory]
    [InlineData(4096, true)]                      // too short to be worth a thread hop: hashed on the writing thread
    [InlineData(256 * 1024, true)]                // hashed beside the write
    [InlineData(256 * 1024, false)]
    [InlineData(3 * 1024 * 1024 + 7, true)]       // records that hold several ranges and streams
    [InlineData(3 * 1024 * 1024 + 7, false)]
    public async Task Checksums_are_of_the_logical_bytes_whatever_the_record_size(int recordBytes, bool besideWrite)
    {
        var (archive, streams, expected) = Archive();
        var tape = new RecordingTape();
        var tap = new ChecksumTap(tape, besideWrite);
        var got = new ulong?[streams.Length];
        for (int i = 0; i < streams.Length; i++)
        {
            int slot = i;
            tap.Expect(streams[i], h => got[slot] = h);
        }
        for (int at = 0; at < archive.Length; at += recordBytes)
            await tap.WriteRecordAsync(archive.AsMemory(at, Math.Min(recordBytes, archive.Length - at)), Ct);
        Assert.True(tap.AllComplete);
        Assert.Equal(expected, got.Select(h => h!.Value));
        Assert.Equal(archive, tape.Data.ToArray());
        Assert.Equal(archive.Length, tap.ArchiveOffsetBytes);
    }

    [Fact]
    public async Task After_a_failed_write_the_tap_never_reports_complete_and_refuses_to_go_on()
    {
        var (archive, streams, _) = Archive();
        // Record 7 (bytes 3 MiB..3.5 MiB) holds the last stream's bytes: it is hashed while its write fails, so only the
        // failure itself can keep the tap from looking complete.
        var tap = new ChecksumTap(new RecordingTape(failAtWrite: 7), hashBesideWrite: true);
        foreach (var s in streams) tap.Expect(s, _ => { });
        const int record = 512 * 1024;
        for (int i = 0; i < 6; i++) await tap.WriteRecordAsync(archive.AsMemory(i * record, record), Ct);
        await Assert.ThrowsAsync<IOException>(async () => await tap.WriteRecordAsync(archive.AsMemory(6 * record, record), Ct));
        Assert.False(tap.AllComplete);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await tap.WriteRecordAsync(archive.AsMemory(7 * record, record), Ct));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await tap.WriteFilemarksAsync(1, Ct));
    }
}
