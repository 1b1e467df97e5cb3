using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Offhost.Io.Block;

/// <summary>
/// Starts the write-back of a file's dirty pages while the writer carries on (sync_file_range(2) SYNC_FILE_RANGE_WRITE,
/// which submits the pages and returns). A sequential writer (<see cref="Written"/>) starts it every
/// <see cref="WindowBytes"/>; a positional writer (<see cref="Start"/>) starts it for each large write. A later fsync then
/// finds little left to write instead of the whole file at once. It never waits for the write-back: waiting for the
/// window before the last one (to bound the dirty pages) made a backup to a new tape file up to 2.5 times slower when
/// the disk was busy (bench/README.md). Only a hint: durability still comes from fsync; failures are ignored (file
/// systems or kernels without sync_file_range fall back to the page cache's own write-back). <see cref="Written"/> and
/// <see cref="Truncated"/> are for one writer at a time; <see cref="Start"/> is thread-safe.
/// </summary>
internal sealed partial class WriteBehind(SafeFileHandle handle)
{
    /// <summary>Bytes written between two write-back requests.</summary>
    public const long WindowBytes = 16 << 20;

    const uint SyncFileRangeWrite = 2;

    long startedTo;          // write-back was requested for [0, startedTo)
    bool disabled = !OperatingSystem.IsLinux();

    /// <summary>Bytes up to <paramref name="writtenToBytes"/> have been written; start write-back of a full window.</summary>
    public void Written(long writtenToBytes)
    {
        if (disabled || writtenToBytes - startedTo < WindowBytes) return;
        if (SyncFileRange(handle, startedTo, writtenToBytes - startedTo, SyncFileRangeWrite) != 0) disabled = true;
        startedTo = writtenToBytes;
    }

    /// <summary>The file was cut back to <paramref name="lengthBytes"/> (a rewrite): forget what lies beyond.</summary>
    public void Truncated(long lengthBytes) => startedTo = Math.Min(startedTo, lengthBytes);

    /// <summary>Starts the write-back of bytes just written at <paramref name="offsetBytes"/> without waiting for it.</summary>
    public void Start(long offsetBytes, long lengthBytes)
    {
        if (Volatile.Read(ref disabled) || lengthBytes <= 0) return;
        if (SyncFileRange(handle, offsetBytes, lengthBytes, SyncFileRangeWrite) != 0) Volatile.Write(ref disabled, true);
    }

    static int SyncFileRange(SafeFileHandle handle, long offsetBytes, long lengthBytes, uint flags)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return NativeSyncFileRange((int)handle.DangerousGetHandle(), offsetBytes, lengthBytes, flags);
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int NativeSyncFileRange(int fd, long offset, long nbytes, uint flags);
}
