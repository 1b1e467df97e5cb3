using Microsoft.Win32.SafeHandles;

namespace Offhost.Io.Block;

/// <summary>
/// Appends a byte stream to the end of a file through an O_DIRECT handle, as a tape drive writes: the data goes to the
/// disk without passing through, or evicting anything from, the page cache, and without the page allocation and
/// write-back that buffered writes of gigabytes cost (bench/README.md, "Writing the tape"). Bytes are gathered in
/// <see cref="BufferCount"/> aligned buffers of <see cref="BufferBytes"/>; a full buffer is written by a thread of the
/// writer's own while the caller fills the next, so the copy into the buffer and the disk write overlap.
/// <para><see cref="Drain"/> puts everything appended so far into the file: the whole 4 KiB blocks direct, the partial
/// last block through the buffered handle (the next direct write of that block rewrites it, and the kernel writes back
/// and drops the cached page first). Nothing else may write the file between a <see cref="Drain"/> and the next
/// <see cref="Append(ReadOnlySpan{byte})"/>, and readers must call <see cref="Drain"/> before reading the appended
/// range. Until then up to <see cref="BufferCount"/> × <see cref="BufferBytes"/> bytes live only in memory, and a
/// process killed meanwhile leaves the file ending at a 4 KiB boundary inside the data.</para>
/// <para>The first write error stops the writer: everything queued after it is dropped and every later call throws
/// an <see cref="IOException"/> naming the offset that failed. Not thread-safe: one caller at a time.</para>
/// </summary>
internal sealed class DirectAppendWriter : IDisposable
{
    public const int AlignmentBytes = DirectIoBuffer.DefaultAlignmentBytes;
    public const int BufferBytes = 4 << 20;
    public const int BufferCount = 3;

    readonly SafeFileHandle direct;
    readonly SafeFileHandle buffered;
    readonly DirectIoBuffer[] buffers;
    readonly Thread thread;

    readonly object gate = new();
    readonly Queue<Job> queue = new();
    readonly Stack<DirectIoBuffer> free = new();
    bool writing;
    bool closing;
    IOException? failure;

    DirectIoBuffer current;
    long currentStartBytes;   // file offset of current[0]; always aligned
    int currentFillBytes;

    DirectAppendWriter(SafeFileHandle direct, SafeFileHandle buffered, long startBytes)
    {
        this.direct = direct;
        this.buffered = buffered;
        buffers = new DirectIoBuffer[BufferCount];
        for (int i = 0; i < buffers.Length; i++) buffers[i] = new DirectIoBuffer(BufferBytes, AlignmentBytes);
        current = buffers[0];
        for (int i = buffers.Length - 1; i >= 1; i--) free.Push(buffers[i]);
        currentStartBytes = startBytes - startBytes % AlignmentBytes;
        currentFillBytes = (int)(startBytes - currentStartBytes);
        // The partial block before the start is rewritten, unchanged, by the first direct write.
        ReadExisting(current.GetSpan()[..currentFillBytes], currentStartBytes);
        EndBytes = startBytes;
        thread = new Thread(WriteLoop) { IsBackground = true, Name = "direct append" };
        thread.Start();
    }

    /// <summary>A writer appending at <paramref name="startBytes"/> (the file's current end) of the file
    /// <paramref name="buffered"/> has open, or null when the file system refuses O_DIRECT (then write buffered).</summary>
    public static DirectAppendWriter? TryOpen(string path, SafeFileHandle buffered, long startBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(startBytes);
        var direct = FileBlockDevice.TryOpenDirect(path, writable: true);
        if (direct is null) return null;
        try
        {
            return new DirectAppendWriter(direct, buffered, startBytes);
        }
        catch
        {
            direct.Dispose();
            throw;
        }
    }

    /// <summary>File offset just past the last byte appended (in the file, or still in the buffers).</summary>
    public long EndBytes { get; private set; }

    public void Append(ReadOnlySpan<byte> data)
    {
        ThrowIfFailed();
        EndBytes += data.Length;
        while (!data.IsEmpty)
        {
            int n = Math.Min(data.Length, BufferBytes - currentFillBytes);
            data[..n].CopyTo(current.GetSpan()[currentFillBytes..]);
            currentFillBytes += n;
            data = data[n..];
            if (currentFillBytes == BufferBytes) SubmitCurrent();
        }
    }

    public void Append(ReadOnlyMemory<byte>[] pieces)
    {
        foreach (var piece in pieces) Append(piece.Span);
    }

    /// <summary>Writes everything appended so far into the file and waits for it; throws the first write error.</summary>
    public void Drain()
    {
        ThrowIfFailed();
        if (EndBytes == drainedToBytes) return;
        int wholeBytes = currentFillBytes - currentFillBytes % AlignmentBytes;
        lock (gate)
        {
            if (wholeBytes > 0) Enqueue(new Job(current, currentStartBytes, wholeBytes, Release: false));
            while ((queue.Count > 0 || writing) && failure is null) Monitor.Wait(gate);
        }
        ThrowIfFailed();
        if (currentFillBytes > wholeBytes)
            WriteBuffered(current.GetSpan()[wholeBytes..currentFillBytes], currentStartBytes + wholeBytes);
        if (wholeBytes > 0)
        {
            var span = current.GetSpan();
            span[wholeBytes..currentFillBytes].CopyTo(span);
            currentStartBytes += wholeBytes;
            currentFillBytes -= wholeBytes;
        }
        drainedToBytes = EndBytes;
    }

    long drainedToBytes = -1;

    /// <summary>True once a write failed; every later call throws.</summary>
    public bool Failed
    {
        get { lock (gate) return failure is not null; }
    }

    void SubmitCurrent()
    {
        lock (gate)
        {
            while (free.Count == 0 && failure is null) Monitor.Wait(gate);
            if (failure is not null) throw FailedError();
            Enqueue(new Job(current, currentStartBytes, BufferBytes, Release: true));
            current = free.Pop();
        }
        currentStartBytes += BufferBytes;
        currentFillBytes = 0;
    }

    /// <summary>A write for the writer thread; <paramref name="Release"/>: the buffer goes back to the free set afterwards
    /// (false for the partial buffer a <see cref="Drain"/> writes and keeps filling).</summary>
    readonly record struct Job(DirectIoBuffer Buffer, long AtBytes, int LengthBytes, bool Release);

    void Enqueue(Job job)
    {
        queue.Enqueue(job);
        Monitor.PulseAll(gate);
    }

    void WriteLoop()
    {
        while (true)
        {
            Job job;
            lock (gate)
            {
                while (queue.Count == 0 && !closing) Monitor.Wait(gate);
                if (queue.Count == 0) return;
                job = queue.Dequeue();
                writing = true;
            }
            IOException? error = null;
            try
            {
                RandomAccess.Write(direct, job.Buffer.Memory.Span[..job.LengthBytes], job.AtBytes);
            }
            catch (Exception e)
            {
                error = new IOException($"direct write of {job.LengthBytes} bytes at byte offset {job.AtBytes} failed: {e.Message}", e);
            }
            lock (gate)
            {
                writing = false;
                if (job.Release) free.Push(job.Buffer);
                if (error is not null && failure is null)
                {
                    failure = error;
                    while (queue.Count > 0)                                  // nothing after a failed write may land
                        if (queue.Dequeue() is { Release: true } dropped) free.Push(dropped.Buffer);
                }
                Monitor.PulseAll(gate);
            }
        }
    }

    void WriteBuffered(ReadOnlySpan<byte> data, long atBytes)
    {
        try { RandomAccess.Write(buffered, data, atBytes); }
        catch (IOException e)
        {
            lock (gate) failure ??= new IOException($"write of {data.Length} bytes at byte offset {atBytes} failed: {e.Message}", e);
            throw FailedError();
        }
    }

    void ReadExisting(Span<byte> into, long atBytes)
    {
        if (PositionalRead.ReadUpTo(buffered, into, atBytes, "direct append") < into.Length)
            throw new IOException($"the file ends before byte offset {atBytes + into.Length}, where appending was to start");
    }

    void ThrowIfFailed()
    {
        lock (gate) if (failure is not null) throw FailedError();
    }

    IOException FailedError() => new(failure!.Message, failure);

    /// <summary>Stops the writer thread after the writes already queued; does not <see cref="Drain"/>.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (closing) return;
            closing = true;
            Monitor.PulseAll(gate);
        }
        thread.Join();
        direct.Dispose();
        foreach (var b in buffers) ((IDisposable)b).Dispose();
    }
}
