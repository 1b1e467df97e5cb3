using System.IO.Hashing;
using Offhost.Server.Verify;
using Offhost.Core.Devices;
using Offhost.Server.Planning;

namespace Offhost.Server.Backup;

/// <summary>
/// A stream device that passes every record to the tape and, on the way, computes the xxHash64 of each
/// planned stream from the archive bytes it sees. The checksum is therefore of what was actually written,
/// computed where the data already flows (the mover), without a second read of the source or the tape.
/// Streams must be registered with <see cref="Expect"/> in archive order before their bytes are written.
/// Holes (ranges not stored) hash as zeros, so a checksum is of the stream's logical bytes.
/// <para>With <c>hashBesideWrite</c> (default: four cores or more) a large record is hashed on a thread-pool thread while
/// the tape writes it (hashing costs about as much CPU as the write); a record whose write fails may then have been
/// hashed already, so after a failed write the tap refuses further writes and never reports <see cref="AllComplete"/>.
/// One writer at a time.</para>
/// </summary>
public sealed class ChecksumTap(IStreamDevice inner, bool? hashBesideWrite = null) : IStreamDevice
{
    sealed class Pending(PlannedStream stream, Action<ulong> done)
    {
        public PlannedStream Stream { get; } = stream;
        public Action<ulong> Done { get; } = done;
        public LogicalStreamHash Hash { get; } = new(stream.SizeBytes);
        public int RangeIndex { get; set; }
        /// <summary>Bytes of the current range already hashed.</summary>
        public long RangeDoneBytes { get; set; }
    }

    /// <summary>Records at least this long are hashed in parallel with their write; shorter ones are not worth a thread hop.</summary>
    public const int ParallelHashMinBytes = 128 * 1024;

    /// <summary>Whether records are hashed beside their write unless the caller says: only with four cores or more. The copy
    /// already keeps two threads busy (the read pipeline's and the record writer's); on two cores a third only adds thread
    /// hops (bench/README.md).</summary>
    public static bool HashBesideWriteByDefault => Environment.ProcessorCount >= 4;

    readonly bool hashBesideWrite = hashBesideWrite ?? HashBesideWriteByDefault;

    readonly Queue<Pending> pending = new();
    long archiveOffset;                     // bytes written to the current tape file
    bool failed;                            // a write failed after its record may have been hashed

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
        if (stream.Ranges.Count == 0) done(p.Hash.Complete());
        else pending.Enqueue(p);
    }

    public string DeviceId => inner.DeviceId;
    public int MaxRecordBytes => inner.MaxRecordBytes;
    public TapePosition Position => inner.Position;

    public async ValueTask<TapeWriteStatus> WriteRecordAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
    {
        if (failed) throw new InvalidOperationException("checksum tap: an earlier write failed, so the checksums no longer describe the tape");
        if (!hashBesideWrite || record.Length < ParallelHashMinBytes || pending.Count == 0)
        {
            var status = await inner.WriteRecordAsync(record, cancellationToken);
            Observe(record.Span);
            return status;
        }
        var hashing = Task.Run(() => Observe(record.Span), CancellationToken.None);
        try
        {
            var status = await inner.WriteRecordAsync(record, cancellationToken);
            await hashing;
            return status;
        }
        catch
        {
            failed = true;
            try { await hashing; }
            catch (Exception) { /* the first failure is the one to report */ }
            throw;                                                             // the record's memory is no longer in use
        }
    }

    void Observe(ReadOnlySpan<byte> record)
    {
        long recordStart = archiveOffset, recordEnd = archiveOffset + record.Length;
        while (pending.Count > 0)
        {
            var p = pending.Peek();
            var range = p.Stream.Ranges[p.RangeIndex];
            long from = range.ArchiveOffsetBytes + p.RangeDoneBytes, to = range.ArchiveOffsetBytes + range.LengthBytes;
            if (from < to)
            {
                if (from >= recordEnd) break;                                  // this range starts in a later record
                if (from < recordStart) throw new InvalidOperationException($"checksum tap: archive bytes {from}..{recordStart} of stream '{p.Stream.Name}' passed unseen");
                long end = Math.Min(to, recordEnd);
                p.Hash.Append(range.FileOffsetBytes + p.RangeDoneBytes, record.Slice((int)(from - recordStart), (int)(end - from)));
                p.RangeDoneBytes += end - from;
                if (end < to) break;                                           // range continues in the next record
            }
            p.RangeIndex++;
            p.RangeDoneBytes = 0;
            if (p.RangeIndex == p.Stream.Ranges.Count)
            {
                pending.Dequeue();
                p.Done(p.Hash.Complete());
            }
        }
        archiveOffset = recordEnd;
    }

    /// <summary>True when every expected stream has been seen whole.</summary>
    public bool AllComplete => pending.Count == 0 && !failed;

    public async ValueTask WriteFilemarksAsync(int count, CancellationToken cancellationToken)
    {
        if (failed) throw new InvalidOperationException("checksum tap: an earlier write failed, so the checksums no longer describe the tape");
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
