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
/// Reads byte ranges of block devices with several large reads in flight and hands the data to one consumer in order
/// (STYLE §3.6): a bounded channel of pending read tasks, a fixed pool of aligned buffers (the pool is the back-pressure),
/// no allocation per read. The first failure cancels the other reads; all reads have finished when this returns.
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

    public static async Task RunAsync(IEnumerable<ReadChunk> chunks, int bufferBytes, int readsInFlight,
        Func<ReadChunk, ReadOnlyMemory<byte>, CancellationToken, ValueTask> consume, CancellationToken ct)
    {
        var buffers = new DirectIoBuffer[readsInFlight + 1];
        for (int i = 0; i < buffers.Length; i++) buffers[i] = new DirectIoBuffer(bufferBytes);
        var free = Channel.CreateUnbounded<DirectIoBuffer>();
        foreach (var b in buffers) free.Writer.TryWrite(b);
        var pending = Channel.CreateBounded<Task<Filled>>(new BoundedChannelOptions(readsInFlight) { SingleReader = true, SingleWriter = true });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var producer = Task.Run(async () =>
        {
            try
            {
                foreach (var chunk in chunks)
                {
                    var buffer = await free.Reader.ReadAsync(cts.Token);
                    var read = ReadAsync(chunk, buffer, free, cts.Token);
                    try
                    {
                        await pending.Writer.WriteAsync(read, cts.Token);
                    }
                    catch
                    {
                        await SettleAsync(read);                   // never free a buffer a read is still filling
                        throw;
                    }
                }
                pending.Writer.Complete();
            }
            catch (Exception e)
            {
                pending.Writer.Complete(e);
            }
        }, CancellationToken.None);

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
                    free.Writer.TryWrite(filled.Buffer);
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
            foreach (var b in buffers) ((IDisposable)b).Dispose();
        }
    }

    static async Task SettleAsync(Task t)
    {
        try { await t; }
        catch (Exception) { /* the first failure is already on its way to the caller */ }
    }

    readonly record struct Filled(ReadChunk Chunk, DirectIoBuffer Buffer, ReadOnlyMemory<byte> Data);

    static async Task<Filled> ReadAsync(ReadChunk chunk, DirectIoBuffer buffer, Channel<DirectIoBuffer> free, CancellationToken ct)
    {
        try
        {
            int bs = chunk.Device.BlockSizeBytes;
            long alignedStart = chunk.OffsetBytes - chunk.OffsetBytes % bs;
            long end = chunk.OffsetBytes + chunk.LengthBytes;
            long alignedEnd = (end + bs - 1) / bs * bs;
            var memory = buffer.Memory[..(int)(alignedEnd - alignedStart)];
            await chunk.Device.ReadAsync(new Lba(alignedStart / bs), memory, ct);
            int skip = (int)(chunk.OffsetBytes - alignedStart);
            return new Filled(chunk, buffer, memory.Slice(skip, chunk.LengthBytes));
        }
        catch (Exception e)
        {
            free.Writer.TryWrite(buffer);
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
