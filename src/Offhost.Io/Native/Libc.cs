using System.Runtime.InteropServices;

namespace Offhost.Io.Native;

/// <summary>The few Linux system calls .NET does not expose: ioctls on block devices and file systems.</summary>
internal static partial class Libc
{
    // From <linux/fs.h>; _IOR(0x12, 114, size_t) etc., fixed on x86_64 and aarch64.
    internal const ulong BLKGETSIZE64 = 0x80081272;
    internal const ulong BLKSSZGET = 0x1268;

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int IoctlUInt64(int fd, ulong request, out ulong value);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int IoctlInt32(int fd, ulong request, out int value);
}
