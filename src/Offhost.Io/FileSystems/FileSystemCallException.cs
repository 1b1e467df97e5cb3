using Offhost.Core.Errors;

namespace Offhost.Io.FileSystems;

/// <summary>A file-system system call failed; carries the call, the path and the errno.</summary>
public sealed class FileSystemCallException : UserFacingException
{
    public FileSystemCallException(string call, string path, int errno)
        : base($"{call} on {path} failed: {Native.LibcFs.Describe(errno)} (errno {errno})")
    {
        Call = call;
        Path = path;
        Errno = errno;
    }

    public string Call { get; }
    public string Path { get; }
    public int Errno { get; }
}
