using System.Runtime.InteropServices;
using Offhost.Io.Native;

namespace Offhost.Io.FileSystems;

/// <summary>
/// FIFREEZE / FITHAW / syncfs on a mounted file system, by mount point. A frozen file system blocks every writer
/// (in the kernel, uninterruptibly) until thawed, whichever process froze it: pair every freeze with a
/// guaranteed thaw (see Offhost.Agent's FreezeGuard). Needs CAP_SYS_ADMIN.
/// </summary>
public static class FileSystemFreeze
{
    /// <summary>Flushes the file system holding <paramref name="path"/> (syncfs(2)).</summary>
    public static void Sync(string path)
    {
        using var d = PathDescriptor.Open(path, "syncfs");
        if (LibcFs.SyncFs(d.Fd) != 0) throw new FileSystemCallException("syncfs", path, Marshal.GetLastSystemError());
    }

    /// <summary>Flushes and freezes the file system mounted at <paramref name="mountPoint"/>. The kernel itself writes
    /// back dirty data and makes the on-disk image consistent (journal checkpointed) before the call returns.</summary>
    public static void Freeze(string mountPoint)
    {
        using var d = PathDescriptor.Open(mountPoint, "FIFREEZE");
        if (LibcFs.IoctlArg(d.Fd, LibcFs.FIFREEZE, 0) != 0)
        {
            int errno = Marshal.GetLastSystemError();
            if (errno == LibcFs.EOPNOTSUPP)
                throw new FileSystemCallException("FIFREEZE (this file system cannot be frozen)", mountPoint, errno);
            if (errno == LibcFs.EBUSY)
                throw new FileSystemCallException("FIFREEZE (already frozen)", mountPoint, errno);
            throw new FileSystemCallException("FIFREEZE", mountPoint, errno);
        }
    }

    /// <summary>Thaws the file system at <paramref name="mountPoint"/>. Returns false when it was not frozen.</summary>
    public static bool Thaw(string mountPoint)
    {
        using var d = PathDescriptor.Open(mountPoint, "FITHAW");
        if (LibcFs.IoctlArg(d.Fd, LibcFs.FITHAW, 0) == 0) return true;
        int errno = Marshal.GetLastSystemError();
        if (errno == LibcFs.EINVAL) return false;
        throw new FileSystemCallException("FITHAW", mountPoint, errno);
    }
}
