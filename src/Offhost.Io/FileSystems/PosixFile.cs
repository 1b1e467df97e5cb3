using Microsoft.Win32.SafeHandles;
using System.Runtime.InteropServices;
using Offhost.Core.Mapping;

namespace Offhost.Io.FileSystems;

/// <summary>
/// Restores file metadata .NET has no API for: access and modification times with nanoseconds (utimensat),
/// ownership (lchown), extended attributes (lsetxattr), hard links (link) and special files (mknodat). All calls act on the path itself, never on a symlink's
/// target. Thread-safe (each call is one system call). Errors come back as errno values so a caller can report
/// "unsupported on this file system" per file rather than fail the whole restore.
/// </summary>
public static unsafe partial class PosixFile
{
    const int AtFdCwd = -100;
    const int AtSymlinkNoFollow = 0x100;
    const long UtimeOmit = (1L << 30) - 2;

    [StructLayout(LayoutKind.Sequential)]
    struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "utimensat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Utimensat(int dirfd, string path, Timespec* times, int flags);

    [LibraryImport("libc", EntryPoint = "futimens", SetLastError = true)]
    private static partial int Futimens(int fd, Timespec* times);

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Lchown(string path, uint owner, uint group);

    [LibraryImport("libc", EntryPoint = "lsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Lsetxattr(string path, string name, byte* value, nuint size, int flags);

    [LibraryImport("libc", EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint Lgetxattr(string path, string name, byte* value, nuint size);

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string existing, string path);

    [LibraryImport("libc", EntryPoint = "strerror")]
    private static partial nint StrError(int errno);

    /// <summary>
    /// Creates the FIFO or device node <paramref name="path"/> (mknodat; never follows or replaces anything there) with
    /// <paramref name="permissions"/> (07777, less the umask; callers set the mode afterwards). Devices need
    /// <paramref name="device"/> and, on Linux, CAP_MKNOD. Returns 0 or the errno; a socket is refused with EINVAL, as
    /// a socket file means nothing without the program that listens on it.
    /// </summary>
    public static int CreateSpecial(string path, SpecialFileKind kind, uint permissions, DeviceNumber? device)
    {
        const int EInval = 22;
        if (kind == SpecialFileKind.Socket || SpecialFiles.HasDevice(kind) != device.HasValue) return EInval;
        ulong dev = device is { } d ? Native.LibcFs.MakeDev(d.Major, d.Minor) : 0;
        uint mode = SpecialFiles.TypeBits(kind) | (permissions & 0xFFF);
        return Native.LibcFs.Mknodat(AtFdCwd, path, mode, dev) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>Sets atime and mtime of <paramref name="path"/> (not following a final symlink); a null time is left as it is.
    /// Returns 0 or the errno.</summary>
    public static int SetTimes(string path, MapTime? accessed, MapTime? modified)
    {
        var times = stackalloc Timespec[2];
        Fill(times, accessed, modified);
        return Utimensat(AtFdCwd, path, times, AtSymlinkNoFollow) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>
    /// Sets the times of an open file (futimens). Restores set a file's times through its handle just before closing it,
    /// as GNU tar does, so nothing done by name after the last write can come between. Returns 0 or the errno.
    /// </summary>
    public static int SetTimes(SafeFileHandle file, MapTime? accessed, MapTime? modified)
    {
        ArgumentNullException.ThrowIfNull(file);
        var times = stackalloc Timespec[2];
        Fill(times, accessed, modified);
        bool added = false;
        try
        {
            file.DangerousAddRef(ref added);
            return Futimens((int)file.DangerousGetHandle(), times) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }

    static void Fill(Timespec* times, MapTime? accessed, MapTime? modified)
    {
        times[0] = accessed is { } a ? new Timespec { Seconds = a.UnixSeconds, Nanoseconds = a.Nanoseconds } : new Timespec { Nanoseconds = UtimeOmit };
        times[1] = modified is { } m ? new Timespec { Seconds = m.UnixSeconds, Nanoseconds = m.Nanoseconds } : new Timespec { Nanoseconds = UtimeOmit };
    }

    /// <summary>Sets owner and group of <paramref name="path"/> (not following a final symlink). Returns 0 or the errno.</summary>
    public static int SetOwner(string path, uint uid, uint gid) =>
        Lchown(path, uid, gid) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>Sets extended attribute <paramref name="name"/> of <paramref name="path"/> (not following a final symlink). Returns 0 or the errno.</summary>
    public static int SetXattr(string path, string name, ReadOnlySpan<byte> value)
    {
        fixed (byte* p = value)
            return Lsetxattr(path, name, p, (nuint)value.Length, 0) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>True when <paramref name="path"/> has extended attribute <paramref name="name"/> (not following a final symlink).</summary>
    public static bool HasXattr(string path, string name) => Lgetxattr(path, name, null, 0) >= 0;

    /// <summary>Makes <paramref name="path"/> a new name of <paramref name="existing"/> (which must not be a symlink to follow). Returns 0 or the errno.</summary>
    public static int CreateHardLink(string existing, string path) => Link(existing, path) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>The C library's text for <paramref name="errno"/>.</summary>
    public static string Describe(int errno) => Marshal.PtrToStringUTF8(StrError(errno)) ?? $"errno {errno}";
}
