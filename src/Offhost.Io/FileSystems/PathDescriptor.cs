using System.Runtime.InteropServices;
using Offhost.Io.Native;

namespace Offhost.Io.FileSystems;

/// <summary>A read-only file descriptor on any path, directories included (FileStream refuses directories).</summary>
internal readonly struct PathDescriptor : IDisposable
{
    PathDescriptor(int fd) => Fd = fd;

    public int Fd { get; }

    public static PathDescriptor Open(string path, string purpose)
    {
        int fd = LibcFs.Open(path, LibcFs.O_RDONLY | LibcFs.O_CLOEXEC, 0);
        if (fd < 0) throw new FileSystemCallException($"open for {purpose}", path, Marshal.GetLastSystemError());
        return new PathDescriptor(fd);
    }

    public void Dispose()
    {
        if (Fd >= 0) _ = LibcFs.Close(Fd);
    }
}
