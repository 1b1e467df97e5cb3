using System.Runtime.InteropServices;

namespace Offhost.Io.Native;

/// <summary>File-system system calls .NET does not expose: freeze/thaw, reflink clone, FIEMAP, syncfs, statx, mknodat.</summary>
internal static unsafe partial class LibcFs
{
    // <linux/fs.h>: _IOWR('X', 119, int), _IOWR('X', 120, int), _IOW(0x94, 9, int), _IOWR('f', 11, struct fiemap).
    // The encodings are the same on x86_64 and aarch64.
    internal const ulong FIFREEZE = 0xC0045877;
    internal const ulong FITHAW = 0xC0045878;
    internal const ulong FICLONE = 0x40049409;
    internal const ulong FS_IOC_FIEMAP = 0xC020660B;

    internal const int O_RDONLY = 0;
    internal const int O_CLOEXEC = 0x80000;
    internal const int AT_FDCWD = -100;
    internal const int AT_SYMLINK_NOFOLLOW = 0x100;
    internal const uint STATX_BASIC_STATS = 0x7FF;

    internal const int EPERM = 1;
    internal const int EBUSY = 16;
    internal const int EXDEV = 18;
    internal const int EINVAL = 22;
    internal const int ENOTTY = 25;
    internal const int EOPNOTSUPP = 95;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int IoctlArg(int fd, ulong request, nint arg);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int IoctlPtr(int fd, ulong request, byte* arg);

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    internal static partial int SyncFs(int fd);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    /// <summary>mknodat(2); <paramref name="device"/> is a glibc <c>dev_t</c> (64 bits, see <see cref="MakeDev"/>).</summary>
    [LibraryImport("libc", EntryPoint = "mknodat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Mknodat(int dirfd, string path, uint mode, ulong device);

    /// <summary>glibc's 64-bit <c>dev_t</c> of a major and minor number (gnu_dev_makedev): minor bits 0-7 at 0, major
    /// bits 0-11 at 8, minor bits 8-31 at 20, major bits 12-31 at 44.</summary>
    internal static ulong MakeDev(uint major, uint minor) =>
        ((ulong)(major & 0xFFFF_F000) << 32) | ((ulong)(major & 0xFFF) << 8) | ((ulong)(minor & 0xFFFF_FF00) << 12) | (minor & 0xFF);

    [LibraryImport("libc", EntryPoint = "strerror")]
    internal static partial nint StrError(int errno);

    internal static string Describe(int errno) => Marshal.PtrToStringUTF8(StrError(errno)) ?? $"errno {errno}";
}
