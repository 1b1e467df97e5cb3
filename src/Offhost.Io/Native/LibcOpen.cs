using System.Runtime.InteropServices;

namespace Offhost.Io.Native;

/// <summary>open(2) with flags .NET cannot express (O_DIRECT), fsync(2), and statx(2) for inode identity.</summary>
internal static partial class LibcOpen
{
    internal const int O_RDONLY = 0;
    internal const int O_RDWR = 2;
    internal const int O_CLOEXEC = 0x80000;
    internal const int EINVAL = 22;
    internal const int AT_FDCWD = -100;
    internal const uint STATX_INO = 0x100;
    internal const int StatxBufferBytes = 256;
    internal const int StatxInoOffset = 32;
    internal const int StatxRdevMajorOffset = 128;
    internal const int StatxDevMajorOffset = 136;

    /// <summary>O_DIRECT differs between architectures (asm-generic vs arm64).</summary>
    internal static int O_DIRECT => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x10000 : 0x4000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    internal static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Statx(int dirfd, string path, int flags, uint mask, Span<byte> buffer);
}
