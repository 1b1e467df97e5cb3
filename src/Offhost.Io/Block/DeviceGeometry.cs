using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Offhost.Io.Native;

namespace Offhost.Io.Block;

/// <summary>Size and logical block size of an open file or block device.</summary>
public static class DeviceGeometry
{
    /// <summary>True when <paramref name="path"/> is a block device (e.g. /dev/loop0, /dev/sdb, /dev/mapper/x).
    /// Decided by the kernel's own list in /sys/class/block, after following symlinks.</summary>
    public static bool IsBlockDevice(string path)
    {
        if (!OperatingSystem.IsLinux()) return false;
        string full = System.IO.Path.GetFullPath(path);
        if (!full.StartsWith("/dev/", StringComparison.Ordinal)) return false;
        var target = File.ResolveLinkTarget(full, returnFinalTarget: true);
        string name = System.IO.Path.GetFileName(target?.FullName ?? full);
        return Directory.Exists(System.IO.Path.Combine("/sys/class/block", name));
    }

    /// <summary>Size in bytes. Uses BLKGETSIZE64 for block devices, because .NET reports 0 for them.</summary>
    public static long GetLengthBytes(SafeFileHandle handle, string path)
    {
        if (IsBlockDevice(path))
        {
            if (Libc.IoctlUInt64((int)handle.DangerousGetHandle(), Libc.BLKGETSIZE64, out ulong size) != 0)
                throw new IOException($"{path}: BLKGETSIZE64 failed (errno {Marshal.GetLastPInvokeError()})");
            return checked((long)size);
        }
        return RandomAccess.GetLength(handle);
    }

    /// <summary>Logical block size in bytes: BLKSSZGET for block devices, 512 for files.</summary>
    public static int GetLogicalBlockSize(SafeFileHandle handle, string path)
    {
        if (IsBlockDevice(path))
        {
            if (Libc.IoctlInt32((int)handle.DangerousGetHandle(), Libc.BLKSSZGET, out int bs) != 0)
                throw new IOException($"{path}: BLKSSZGET failed (errno {Marshal.GetLastPInvokeError()})");
            return bs;
        }
        return 512;
    }
}
