using System.Collections.Concurrent;
using System.Threading.Channels;
using Offhost.Core.Devices;
using Offhost.Core.Units;
using Offhost.Io.Block;

namespace Offhost.DataMover.Execution;

/// <summary>A byte range of a block device to read, in device bytes.</summary>
internal readonly record struct ReadPiece(IBlockDevice Device, long OffsetBytes, long LengthBytes);

/// <summary>One read: a byte range of a block device no longer than the chunk size.</summary>
internal readonly record struct ReadChunk(IBlockDevice Device, long OffsetBytes, int LengthBytes);

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
                    await consume(filled.Chunk, filled.Data, cts.Token);
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
        long alignedStart = chunk.OffsetBytes - chunk.OffsetBytes % bs;
        long end = chunk.OffsetBytes + chunk.LengthBytes;
        long alignedEnd = (end + bs - 1) / bs * bs;
        return (new Lba(alignedStart / bs), buffer.Memory[..(int)(alignedEnd - alignedStart)], (int)(chunk.OffsetBytes - alignedStart));
    }

    /// <summary>Reads a chunk on the calling (producer) thread; the consumer gets a completed task.</summary>
    static Task<Filled> ReadHere(ReadChunk chunk, ISynchronousBlockReader reader, ReadBuffer buffer, FreeBuffers free, CancellationToken ct)
    {
        try
        {
            ct.ThrowIfCancellationRequested();
            var (lba, memory, skip) = Aligned(chunk, buffer);
            reader.Read(lba, memory.Span);
            return Task.FromResult(new Filled(chunk, buffer, memory.Slice(skip, chunk.LengthBytes)));
        }
        catch (Exception e)
        {
            free.Return(buffer);
            return Task.FromException<Filled>(e is IOException ? new ChunkReadException(chunk, e) : e);
        }
    }

    static async Task<Filled> ReadAsync(ReadChunk chunk, ReadBuffer buffer, FreeBuffers free, CancellationToken ct)
    {
        try
        {
            var (lba, memory, skip) = Aligned(chunk, buffer);
            await chunk.Device.ReadAsync(lba, memory, ct);
            return new Filled(chunk, buffer, memory.Slice(skip, chunk.LengthBytes));
        }
        catch (Exception e)
        {
            free.Return(buffer);
            if (e is IOException) throw new ChunkReadException(chunk, e);
            throw;
        }
    }

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
