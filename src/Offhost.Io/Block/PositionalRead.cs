using Microsoft.Win32.SafeHandles;

namespace Offhost.Io.Block;

/// <summary>Positional reads that fill their buffer (pread may return less than asked). Thread-safe.</summary>
internal static class PositionalRead
{
    /// <summary>Reads <paramref name="buffer"/> from <paramref name="offsetBytes"/>, returning fewer bytes only at end of
    /// file; the caller decides what a short read means. A failed read is an <see cref="IOException"/> naming
    /// <paramref name="name"/> and the byte offset that failed.</summary>
    public static int ReadUpTo(SafeFileHandle handle, Span<byte> buffer, long offsetBytes, string name)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int n;
            try { n = RandomAccess.Read(handle, buffer[done..], offsetBytes + done); }
            catch (IOException e) { throw new IOException($"{name}: read error at byte offset {offsetBytes + done}: {e.Message}", e); }
            if (n == 0) break;
            done += n;
        }
        return done;
    }
}
