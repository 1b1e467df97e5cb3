using System.IO.Hashing;
using Offhost.Core.Devices;
using Offhost.Server.Planning;

namespace Offhost.Server.Backup;

/// <summary>
/// A stream device that passes every record to the tape and, on the way, computes the xxHash64 of each
/// planned stream from the archive bytes it sees. The checksum is therefore of what was actually written,
/// computed where the data already flows (the mover), without a second read of the source or the tape.
/// Streams must be registered with <see cref="Expect"/> in archive order before their bytes are written.
/// Holes (ranges not stored) hash as zeros, so a checksum is of the stream's logical bytes.
/// </summary>
public sealed class ChecksumTap(IStreamDevice inner) : IStreamDevice
{
    sealed class Pending(PlannedStream stream, Action<ulong> done)
    {
        public PlannedStream Stream { get; } = stream;
        public Action<ulong> Done { get; } = done;
        public XxHash64 Hash { get; } = new();
        public int RangeIndex { get; set; }
        public long HashedBytes { get; set; }
    }

    readonly Queue<Pending> pending = new();
    long archiveOffset;                     // bytes written to the current tape file
    static readonly byte[] Zeros = new byte[64 * 1024];

    /// <summary>Bytes written to the current tape file so far.</summary>
    public long ArchiveOffsetBytes => archiveOffset;

    public void Expect(PlannedStream stream, Action<ulong> done)
    {
        if (stream.InlineBytes is ReadOnlyMemory<byte> bytes)
        {
            done(XxHash64.HashToUInt64(bytes.Span));
            return;
        }
        var p = new Pending(stream, done);
        if (stream.Ranges.Count == 0) Complete(p);
        else pending.Enqueue(p);
    }

    public string DeviceId => inner.DeviceId;
    public int MaxRecordBytes => inner.MaxRecordBytes;
    public TapePosition Position => inner.Position;

    public async ValueTask<TapeWriteStatus> WriteRecordAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
    {
        var status = await inner.WriteRecordAsync(record, cancellationToken);
        Observe(record.Span);
        return status;
    }

    void Observe(ReadOnlySpan<byte> record)
    {
        long recordStart = archiveOffset, recordEnd = archiveOffset + record.Length;
        while (pending.Count > 0)
        {
            var p = pending.Peek();
            var range = p.Stream.Ranges[p.RangeIndex];
            long rangeDone = p.HashedBytes - range.FileOffsetBytes;          // bytes of this range already hashed
            long from = range.ArchiveOffsetBytes + Math.Max(0, rangeDone);
            long to = range.ArchiveOffsetBytes + range.LengthBytes;
            if (from >= recordEnd) break;                                      // this range starts in a later record
            if (rangeDone < 0) { FeedZeros(p, range.FileOffsetBytes - p.HashedBytes); from = range.ArchiveOffsetBytes; }
            long a = Math.Max(from, recordStart), b = Math.Min(to, recordEnd);
            if (a > from) throw new InvalidOperationException($"checksum tap: archive bytes {from}..{a} of stream '{p.Stream.Name}' passed unseen");
            if (b > a)
            {
                p.Hash.Append(record.Slice((int)(a - recordStart), (int)(b - a)));
                p.HashedBytes += b - a;
            }
            if (b < to) break;                                                 // range continues in the next record
            p.RangeIndex++;
            if (p.RangeIndex == p.Stream.Ranges.Count)
            {
                pending.Dequeue();
                Complete(p);
            }
        }
        archiveOffset = recordEnd;
    }

    static void FeedZeros(Pending p, long count)
    {
        while (count > 0)
        {
            int n = (int)Math.Min(count, Zeros.Length);
            p.Hash.Append(Zeros.AsSpan(0, n));
            p.HashedBytes += n;
            count -= n;
        }
    }

    static void Complete(Pending p)
    {
        FeedZeros(p, p.Stream.SizeBytes - p.HashedBytes);
        p.Done(p.Hash.GetCurrentHashAsUInt64());
    }

    /// <summary>True when every expected stream has been seen whole.</summary>
    public bool AllComplete => pending.Count == 0;

    public async ValueTask WriteFilemarksAsync(int count, CancellationToken cancellationToken)
    {
        await inner.WriteFilemarksAsync(count, cancellationToken);
        archiveOffset = 0;
    }

    public ValueTask<TapeReadResult> ReadRecordAsync(Memory<byte> buffer, CancellationToken cancellationToken) => inner.ReadRecordAsync(buffer, cancellationToken);
    public ValueTask<long> SpaceAsync(SpaceUnit unit, long count, CancellationToken cancellationToken) => inner.SpaceAsync(unit, count, cancellationToken);
    public ValueTask RewindAsync(CancellationToken cancellationToken) => inner.RewindAsync(cancellationToken);
    public ValueTask LocateAsync(TapePosition position, CancellationToken cancellationToken) => inner.LocateAsync(position, cancellationToken);
    public ValueTask FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;   // the caller owns the inner device
}
