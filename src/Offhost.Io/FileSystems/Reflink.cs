using System.Runtime.InteropServices;
using Offhost.Io.Native;

namespace Offhost.Io.FileSystems;

/// <summary>FICLONE: an instant copy-on-write clone of a whole file on XFS (reflink=1), btrfs and similar.</summary>
public static class Reflink
{
    /// <summary>
    /// Clones <paramref name="source"/> to the new file <paramref name="destination"/> (must not exist). Returns false,
    /// leaving no destination behind, when the file system cannot clone (EOPNOTSUPP, EXDEV across file systems,
    /// EINVAL, ENOTTY); throws for other failures. The kernel writes back the source's dirty pages first.
    /// </summary>
    public static bool TryClone(string source, string destination)
    {
        using var src = File.OpenHandle(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        bool ok = false;
        try
        {
            // The clone holds a whole volume: readable by its owner only, whatever the umask.
            using var dst = new FileStream(destination, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            if (LibcFs.IoctlArg((int)dst.SafeFileHandle.DangerousGetHandle(), LibcFs.FICLONE, src.DangerousGetHandle()) == 0)
            {
                ok = true;
                return true;
            }
            int errno = Marshal.GetLastSystemError();
            if (errno is LibcFs.EOPNOTSUPP or LibcFs.EXDEV or LibcFs.EINVAL or LibcFs.ENOTTY) return false;
            throw new FileSystemCallException("FICLONE", $"{source} -> {destination}", errno);
        }
        finally
        {
            if (!ok) TryDelete(destination);
        }
    }

    /// <summary>True when files in <paramref name="directory"/> can be cloned (probes with two empty temporary files).</summary>
    public static bool IsSupported(string directory)
    {
        string a = Path.Combine(directory, $".offhost-reflink-probe-{Guid.NewGuid():N}");
        string b = a + ".clone";
        try
        {
            File.WriteAllBytes(a, [0]);
            return TryClone(a, b);
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
        finally
        {
            TryDelete(a);
            TryDelete(b);
        }
    }

    static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

}
