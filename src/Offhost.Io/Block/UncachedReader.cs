using Microsoft.Win32.SafeHandles;

namespace Offhost.Io.Block;

/// <summary>
/// Reads a block device past this host's page cache (O_DIRECT).
/// <para>The page cache of a block device is not kept coherent with writes that do not pass through it: the data a file
/// system mounted on the device writes (it reaches the disk as block I/O of the file's own, not through the device's
/// cache), and everything another host writes to a shared LUN. A block that was once read through the cache is then
/// returned stale, silently, until the kernel happens to evict it: a second backup of a mounted file system got the first
/// backup's bytes for every block rewritten in between. So every read of a block device goes through this.</para>
/// <para>A read whose offset and length are whole logical blocks and whose memory is 4 KiB aligned goes straight into the
/// caller's memory; any other read goes through an aligned bounce buffer of its own. Thread-safe.</para>
/// </summary>
internal sealed class UncachedReader : IDisposable
{
    const int MemoryAlignmentBytes = DirectIoBuffer.DefaultAlignmentBytes;
    const int MaxBounceBytes = 1 << 20;

    readonly SafeFileHandle handle;
    readonly int blockBytes;
    readonly string name;

    UncachedReader(SafeFileHandle handle, int logicalBlockBytes, string name)
    {
        this.handle = handle;
        blockBytes = logicalBlockBytes;
        this.name = name;
    }

    /// <summary>An uncached reader of the block device at <paramref name="path"/>, whose logical block size is
    /// <paramref name="logicalBlockBytes"/>; throws when the device cannot be opened with O_DIRECT, because a block device
    /// read through its page cache may silently yield old data.</summary>
    public static UncachedReader Open(string path, int logicalBlockBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(logicalBlockBytes);
        var h = FileBlockDevice.TryOpenDirect(path, writable: false)
            ?? throw new IOException($"{path}: cannot open the block device with O_DIRECT; its page cache may hold old data, so it is not read through it");
        return new UncachedReader(h, logicalBlockBytes, path);
    }

    /// <summary>Reads <paramref name="buffer"/> from byte <paramref name="offsetBytes"/> of the device; returns fewer bytes
    /// only at the end of the device.</summary>
    public int ReadUpTo(Span<byte> buffer, long offsetBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offsetBytes);
        if (buffer.IsEmpty) return 0;
        if (offsetBytes % blockBytes == 0 && buffer.Length % blockBytes == 0 && DirectIoBuffer.IsAligned(buffer, MemoryAlignmentBytes))
            return PositionalRead.ReadUpTo(handle, buffer, offsetBytes, name);

        long first = offsetBytes - offsetBytes % blockBytes;
        long end = offsetBytes + buffer.Length;
        long span = (end - first + blockBytes - 1) / blockBytes * blockBytes;
        int bounceBytes = (int)Math.Min(span, Math.Max(blockBytes, MaxBounceBytes / blockBytes * blockBytes));
        using var bounce = new DirectIoBuffer(bounceBytes, Math.Max(MemoryAlignmentBytes, blockBytes));
        int done = 0;
        long at = first;
        while (done < buffer.Length)
        {
            int len = (int)Math.Min(bounceBytes, (end - at + blockBytes - 1) / blockBytes * blockBytes);
            int got = PositionalRead.ReadUpTo(handle, bounce.GetSpan()[..len], at, name);
            long wantFrom = offsetBytes + done;
            int skip = (int)(wantFrom - at);
            if (got <= skip) break;                                  // the device ended
            int n = Math.Min(got - skip, buffer.Length - done);
            bounce.GetSpan().Slice(skip, n).CopyTo(buffer[done..]);
            done += n;
            if (got < len) break;
            at += len;
        }
        return done;
    }

    public void Dispose() => handle.Dispose();
}
