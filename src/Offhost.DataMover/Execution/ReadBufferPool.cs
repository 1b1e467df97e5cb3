using System.Runtime.InteropServices;

namespace Offhost.DataMover.Execution;

/// <summary>A read buffer: a pinned array (the GC never moves it) and its 4 KiB-aligned slice, so the same memory serves
/// buffered I/O and O_DIRECT. Managed memory: a buffer nobody returns is simply collected.</summary>
internal sealed class ReadBuffer
{
    public const int AlignmentBytes = 4096;

    public ReadBuffer(int lengthBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lengthBytes);
        var array = GC.AllocateUninitializedArray<byte>(checked(lengthBytes + AlignmentBytes), pinned: true);
        long address = Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);
        int skip = (int)((AlignmentBytes - address % AlignmentBytes) % AlignmentBytes);
        Memory = array.AsMemory(skip, lengthBytes);
    }

    public Memory<byte> Memory { get; }
    public int LengthBytes => Memory.Length;
}

/// <summary>
/// Read buffers kept between the EXTENDED COPY commands of one copy manager. A backup is a sequence of parameter lists;
/// without the pool every list would map, fault in and zero its read buffers afresh (tens of MiB each time).
/// Keeps at most <c>maxKept</c> buffers, all of one size (the size last returned). Thread-safe.
/// </summary>
internal sealed class ReadBufferPool(int maxKept)
{
    readonly Lock gate = new();
    readonly Stack<ReadBuffer> kept = new();

    public ReadBuffer Rent(int lengthBytes)
    {
        lock (gate)
        {
            if (kept.TryPeek(out var b) && b.LengthBytes == lengthBytes) return kept.Pop();
        }
        return new ReadBuffer(lengthBytes);
    }

    public void Return(ReadBuffer buffer)
    {
        lock (gate)
        {
            if (kept.TryPeek(out var b) && b.LengthBytes != buffer.LengthBytes) kept.Clear();   // sizes changed: keep the newest
            if (kept.Count < maxKept) kept.Push(buffer);
        }
    }
}
