using System.Collections.Concurrent;
using System.Threading.Channels;
using Offhost.Core.Devices;
using Offhost.Core.Units;
using Offhost.Io.Block;

namespace Offhost.DataMover.Execution;

/// <summary>A byte range of a block device to read, in device bytes.</summary>
internal readonly record struct ReadPiece(IBlockDevice Device, long OffsetBytes, long LengthBytes);

/// <summary>One read: a byte range of a block device no longer than the chunk size; or, with <see cref="Gather"/>, a window of
/// small pieces read in device order and handed on in their own order (<see cref="OffsetBytes"/> is then where the first
/// read starts and <see cref="LengthBytes"/> the pieces' total).</summary>
internal readonly record struct ReadChunk(IBlockDevice Device, long OffsetBytes, int LengthBytes)
{
    public GatherPlan? Gather { get; init; }
}

/// <summary>How a window of small pieces is read: <see cref="Reads"/> in ascending device order (block aligned, spanning
/// the small gaps between pieces) into one buffer, and <see cref="Pieces"/> in the order the consumer wants them, as places
/// in that buffer.</summary>
internal sealed record GatherPlan(GatherRead[] Reads, GatherPiece[] Pieces, int BufferBytes);

/// <summary>A read of <paramref name="LengthBytes"/> at device byte <paramref name="OffsetBytes"/> (both block aligned) into
/// the buffer at <paramref name="BufferOffsetBytes"/>; <paramref name="Inside"/> indexes the pieces it holds, which are read
/// one by one should the whole read fail (a bad block in a gap holds no data of the backup).</summary>
internal readonly record struct GatherRead(long OffsetBytes, int LengthBytes, int BufferOffsetBytes, int[] Inside);

/// <summary>A piece: <paramref name="LengthBytes"/> at device byte <paramref name="OffsetBytes"/>, found in the buffer at
/// <paramref name="BufferOffsetBytes"/>.</summary>
internal readonly record struct GatherPiece(long OffsetBytes, int LengthBytes, int BufferOffsetBytes);

/// <summary>A chunk read failed; <see cref="Chunk"/> says which.</summary>
internal sealed class ChunkReadException(ReadChunk chunk, Exception inner) : IOException(inner.Message, inner)
{
    public ReadChunk Chunk { get; } = chunk;
}

/// <summary>
/// Reads byte ranges of block devices ahead of one consumer and hands it the data in order (STYLE §3.6): a producer
/// thread fills a fixed set of aligned buffers rented from the copy manager's <see cref="ReadBufferPool"/> (the set is
/// the back-pressure) and queues them as pending read tasks; no allocation per read. The first failure stops the
/// producer and cancels the other reads; all reads have finished when this returns.
/// </summary>
internal static class BlockReadPipeline
{
    /// <summary>Splits <paramref name="pieces"/> into reads of at most <paramref name="chunkBytes"/>, coalescing pieces that are
    /// adjacent on the same device into one read.</summary>
    public static IEnumerable<ReadChunk> Chunks(IEnumerable<ReadPiece> pieces, int chunkBytes)
    {
        IBlockDevice? device = null;
        long start = 0;
        int length = 0;
        foreach (var p in pieces)
        {
            long at = p.OffsetBytes, rest = p.LengthBytes;
            while (rest > 0)
            {
                if (device is not null && ReferenceEquals(device, p.Device) && start + length == at && length < chunkBytes)
                {
                    int take = (int)Math.Min(rest, chunkBytes - length);
                    length += take;
                    at += take;
                    rest -= take;
                    continue;
                }
                if (device is not null && length > 0) yield return new ReadChunk(device, start, length);
                device = p.Device;
                start = at;
                length = (int)Math.Min(rest, chunkBytes);
                at += length;
                rest -= length;
            }
        }
        if (device is not null && length > 0) yield return new ReadChunk(device, start, length);
    }

    /// <summary>Pieces no longer than this are read in device order within a window (<see cref="Plan"/>).</summary>
    public const int GatherPieceMaxBytes = 1 << 20;

    /// <summary>Gaps up to this long between the pieces of a window are read and dropped rather than costing a read each.</summary>
    public const int GatherGapMaxBytes = 64 << 10;

    const int GatherMaxPieces = 4096;
    const int MemoryAlignmentBytes = ReadBuffer.AlignmentBytes;

    /// <summary>
    /// Reads for <paramref name="pieces"/>: runs of small pieces (up to <see cref="GatherPieceMaxBytes"/>, one device) become
    /// windows of up to a buffer, read in ascending device order with gaps of up to
    /// <see cref="GatherGapMaxBytes"/> read through (the files of a directory are rarely next to each other on the device,
    /// so archive order is a seek per file); everything else is read as by <see cref="Chunks"/>. The consumer still gets
    /// the bytes in the pieces' order.
    /// </summary>
    public static IEnumerable<ReadChunk> Plan(IEnumerable<ReadPiece> pieces, int chunkBytes, int bufferBytes)
    {
        var small = new List<ReadPiece>();
        var large = new List<ReadPiece>();
        long windowBytes = 0;
        foreach (var p in pieces)
        {
            if (p.LengthBytes <= Math.Min(GatherPieceMaxBytes, chunkBytes) && PlacedBytes(p) <= bufferBytes / 4)
            {
                foreach (var c in Chunks(large, chunkBytes)) yield return c;
                large.Clear();
                long cost = PlacedBytes(p);
                if (small.Count > 0 && (!ReferenceEquals(small[0].Device, p.Device) || small.Count == GatherMaxPieces || windowBytes + cost > bufferBytes))
                {
                    foreach (var c in Window(small, chunkBytes, bufferBytes)) yield return c;
                    small.Clear();
                    windowBytes = 0;
                }
                small.Add(p);
                windowBytes += cost;
            }
            else
            {
                foreach (var c in Window(small, chunkBytes, bufferBytes)) yield return c;
                small.Clear();
                windowBytes = 0;
                large.Add(p);
            }
        }
        foreach (var c in Window(small, chunkBytes, bufferBytes)) yield return c;
        foreach (var c in Chunks(large, chunkBytes)) yield return c;
    }

    /// <summary>The whole blocks that hold device bytes [<paramref name="offsetBytes"/>, + <paramref name="lengthBytes"/>):
    /// the byte offsets of their start and end.</summary>
    static (long StartBytes, long EndBytes) WholeBlocks(long offsetBytes, long lengthBytes, int blockBytes) =>
        (offsetBytes / blockBytes * blockBytes, (offsetBytes + lengthBytes + blockBytes - 1) / blockBytes * blockBytes);

    /// <summary>Buffer bytes a piece takes when it is read on its own: its whole blocks, placed at an aligned buffer offset.</summary>
    static long PlacedBytes(ReadPiece p)
    {
        var (a, b) = WholeBlocks(p.OffsetBytes, p.LengthBytes, p.Device.BlockSizeBytes);
        return AlignUp(b - a, MemoryAlignmentBytes);
    }

    static long AlignUp(long value, int alignment) => (value + alignment - 1) / alignment * alignment;

    static IEnumerable<ReadChunk> Window(List<ReadPiece> window, int chunkBytes, int bufferBytes)
    {
        if (window.Count == 0) return [];
        // Gaps read through, unless that does not fit the buffer; without gaps it always fits (the window was cut so).
        var plan = window.Count == 1 ? null : Layout(window, GatherGapMaxBytes, bufferBytes) ?? Layout(window, 0, bufferBytes)
            ?? throw new InvalidOperationException("a read window does not fit its buffer");
        // One read that takes the pieces in their own order anyway (adjacent, ascending): an ordinary chunk.
        if (plan is null || (plan.Reads.Length == 1 && plan.Pieces.Zip(plan.Pieces.Skip(1)).All(x => x.First.OffsetBytes + x.First.LengthBytes == x.Second.OffsetBytes)))
            return Chunks(window.ToList(), chunkBytes);
        return [new ReadChunk(window[0].Device, plan.Reads[0].OffsetBytes, (int)window.Sum(p => p.LengthBytes)) { Gather = plan }];
    }

    static GatherPlan? Layout(List<ReadPiece> window, int maxGapBytes, int bufferBytes)
    {
        int bs = window[0].Device.BlockSizeBytes;
        var order = Enumerable.Range(0, window.Count).OrderBy(i => window[i].OffsetBytes).ThenBy(i => i).ToArray();
        var spans = new List<(long Start, long End, List<int> Inside)>();
        foreach (int i in order)
        {
            var p = window[i];
            var (a, b) = WholeBlocks(p.OffsetBytes, p.LengthBytes, bs);
            if (spans.Count > 0 && a <= spans[^1].End + maxGapBytes)
            {
                var last = spans[^1];
                last.Inside.Add(i);
                spans[^1] = (last.Start, Math.Max(last.End, b), last.Inside);
            }
            else spans.Add((a, b, [i]));
        }
        var reads = new GatherRead[spans.Count];
        var pieces = new GatherPiece[window.Count];
        long at = 0;
        for (int r = 0; r < spans.Count; r++)
        {
            var (start, end, inside) = spans[r];
            if (at + (end - start) > bufferBytes) return null;
            reads[r] = new GatherRead(start, (int)(end - start), (int)at, [.. inside]);
            foreach (int i in inside) pieces[i] = new GatherPiece(window[i].OffsetBytes, (int)window[i].LengthBytes, (int)(at + window[i].OffsetBytes - start));
            at = AlignUp(at + (end - start), MemoryAlignmentBytes);
        }
        return new GatherPlan(reads, pieces, (int)Math.Min(at, bufferBytes));
    }

    /// <summary>Buffer size needed for chunks of <paramref name="chunkBytes"/> on devices with blocks up to <paramref name="maxBlockBytes"/>
    /// (an unaligned chunk reads a partial block at each end).</summary>
    public static int BufferBytes(int chunkBytes, int maxBlockBytes) => checked(chunkBytes + 2 * maxBlockBytes);

    public static async Task RunAsync(IEnumerable<ReadChunk> chunks, int bufferBytes, int readsInFlight, ReadBufferPool pool,
        Func<ReadChunk, ReadOnlyMemory<byte>, CancellationToken, ValueTask> consume, CancellationToken ct)
    {
        var buffers = new ReadBuffer[readsInFlight + 1];
        for (int i = 0; i < buffers.Length; i++) buffers[i] = pool.Rent(bufferBytes);
        var free = new FreeBuffers(buffers);
        // Unbounded, yet never longer than the buffer set: every entry holds one of the buffers.
        var pending = Channel.CreateUnbounded<Task<Filled>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // The producer has a thread of its own: it blocks waiting for free buffers and reads synchronous devices (files, block
        // devices) itself, so neither the reads nor the read-ahead wait for a thread-pool thread while the consumer keeps one
        // busy writing records (a pool that has not grown yet would otherwise serialise reading and writing).
        var producer = Task.Factory.StartNew(() =>
        {
            try
            {
                foreach (var chunk in chunks)
                {
                    var buffer = free.Take(cts.Token);
                    var read = chunk.Device is ISynchronousBlockReader reader
                        ? ReadHere(chunk, reader, buffer, free, cts.Token)
                        : ReadAsync(chunk, buffer, free, cts.Token);
                    pending.Writer.TryWrite(read);
                    if (read.IsFaulted) break;                  // the consumer stops at this chunk; read no further
                }
                pending.Writer.Complete();
            }
            catch (Exception e)
            {
                pending.Writer.Complete(e);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        bool failed = true;
        try
        {
            await foreach (var read in pending.Reader.ReadAllAsync(cts.Token))
            {
                var filled = await read;
                try
                {
                    if (filled.Chunk.Gather is { } gather)
                    {
                        foreach (var piece in gather.Pieces)
                            await consume(filled.Chunk, filled.Buffer.Memory.Slice(piece.BufferOffsetBytes, piece.LengthBytes), cts.Token);
                    }
                    else await consume(filled.Chunk, filled.Data, cts.Token);
                }
                finally
                {
                    free.Return(filled.Buffer);
                }
            }
            await producer;
            failed = false;
        }
        finally
        {
            if (failed)
            {
                await cts.CancelAsync();
                await SettleAsync(producer);
                while (pending.Reader.TryRead(out var read)) await SettleAsync(read);
            }
            foreach (var b in buffers) pool.Return(b);          // every read has finished: nothing writes into them any more
        }
    }

    /// <summary>The buffers not holding data: taken by the producer (blocking its own thread), returned by the consumer.</summary>
    sealed class FreeBuffers
    {
        readonly ConcurrentQueue<ReadBuffer> queue;
        readonly SemaphoreSlim count;

        public FreeBuffers(ReadBuffer[] buffers)
        {
            queue = new ConcurrentQueue<ReadBuffer>(buffers);
            count = new SemaphoreSlim(buffers.Length);
        }

        public ReadBuffer Take(CancellationToken ct)
        {
            count.Wait(ct);
            return queue.TryDequeue(out var b) ? b : throw new InvalidOperationException("read buffer accounting is broken");
        }

        public void Return(ReadBuffer buffer)
        {
            queue.Enqueue(buffer);
            count.Release();
        }
    }

    static async Task SettleAsync(Task t)
    {
        try { await t; }
        catch (Exception) { /* the first failure is already on its way to the caller */ }
    }

    readonly record struct Filled(ReadChunk Chunk, ReadBuffer Buffer, ReadOnlyMemory<byte> Data);

    /// <summary>The block-aligned span of the buffer a chunk is read into, and where the chunk's bytes start in it.</summary>
    static (Lba Lba, Memory<byte> Memory, int Skip) Aligned(ReadChunk chunk, ReadBuffer buffer)
    {
        int bs = chunk.Device.BlockSizeBytes;
        var (alignedStart, alignedEnd) = WholeBlocks(chunk.OffsetBytes, chunk.LengthBytes, bs);
        return (new Lba(alignedStart / bs), buffer.Memory[..(int)(alignedEnd - alignedStart)], (int)(chunk.OffsetBytes - alignedStart));
    }

    /// <summary>Reads a chunk on the calling (producer) thread; the consumer gets a completed task.</summary>
    static Task<Filled> ReadHere(ReadChunk chunk, ISynchronousBlockReader reader, ReadBuffer buffer, FreeBuffers free, CancellationToken ct) =>
        FillAsync(chunk, buffer, free, (lba, memory) =>
        {
            ct.ThrowIfCancellationRequested();
            reader.Read(lba, memory.Span);
            return ValueTask.CompletedTask;
        }).AsTask();

    static Task<Filled> ReadAsync(ReadChunk chunk, ReadBuffer buffer, FreeBuffers free, CancellationToken ct) =>
        FillAsync(chunk, buffer, free, (lba, memory) => chunk.Device.ReadAsync(lba, memory, ct)).AsTask();

    /// <summary>Reads a chunk into <paramref name="buffer"/> through <paramref name="read"/> (whole blocks of the chunk's
    /// device): a plain chunk in one read, a gather window read by read, and a failed gathered read again piece by piece.
    /// Completes synchronously when <paramref name="read"/> does. On failure the buffer goes back to the free set and an
    /// I/O error becomes a <see cref="ChunkReadException"/> naming the chunk (or the piece) that failed.</summary>
    static async ValueTask<Filled> FillAsync(ReadChunk chunk, ReadBuffer buffer, FreeBuffers free, Func<Lba, Memory<byte>, ValueTask> read)
    {
        try
        {
            if (chunk.Gather is not { } gather)
            {
                var (lba, memory, skip) = Aligned(chunk, buffer);
                await read(lba, memory);
                return new Filled(chunk, buffer, memory.Slice(skip, chunk.LengthBytes));
            }
            foreach (var r in gather.Reads)
            {
                try { await read(new Lba(r.OffsetBytes / chunk.Device.BlockSizeBytes), buffer.Memory.Slice(r.BufferOffsetBytes, r.LengthBytes)); }
                catch (IOException)
                {
                    foreach (int i in r.Inside)
                    {
                        var (lba, at, length) = PieceRead(chunk.Device, r, gather.Pieces[i]);
                        try { await read(lba, buffer.Memory.Slice(at, length)); }
                        catch (IOException e) { throw new ChunkReadException(PieceChunk(chunk.Device, gather.Pieces[i]), e); }
                    }
                }
            }
            return new Filled(chunk, buffer, buffer.Memory[..gather.BufferBytes]);
        }
        catch (Exception e)
        {
            free.Return(buffer);
            if (e is IOException and not ChunkReadException) throw new ChunkReadException(chunk, e);
            throw;
        }
    }

    /// <summary>The whole blocks of one piece of a gather read: where they start, and where and how long they go in the buffer.</summary>
    static (Lba Lba, int BufferOffsetBytes, int LengthBytes) PieceRead(IBlockDevice device, GatherRead read, GatherPiece piece)
    {
        int bs = device.BlockSizeBytes;
        var (a, b) = WholeBlocks(piece.OffsetBytes, piece.LengthBytes, bs);
        return (new Lba(a / bs), read.BufferOffsetBytes + (int)(a - read.OffsetBytes), (int)(b - a));
    }

    static ReadChunk PieceChunk(IBlockDevice device, GatherPiece piece) => new(device, piece.OffsetBytes, piece.LengthBytes);

    /// <summary>After a chunk read failed, re-reads it one block at a time to find the first block that fails; returns its
    /// device byte offset (or the chunk's start if every block now reads).</summary>
    public static async Task<long> LocateFailureAsync(ReadChunk chunk, CancellationToken ct)
    {
        int bs = chunk.Device.BlockSizeBytes;
        using var one = new DirectIoBuffer(bs);
        long first = chunk.OffsetBytes / bs, last = (chunk.OffsetBytes + chunk.LengthBytes - 1) / bs;
        for (long lba = first; lba <= last; lba++)
        {
            try { await chunk.Device.ReadAsync(new Lba(lba), one.Memory, ct); }
            catch (IOException) { return Math.Max(lba * bs, chunk.OffsetBytes); }
        }
        return chunk.OffsetBytes;
    }
}
