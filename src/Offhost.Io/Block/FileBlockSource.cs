using Microsoft.Win32.SafeHandles;
using Offhost.Core.Devices;

namespace Offhost.Io.Block;

/// <summary>
/// Read-only <see cref="IBlockSource"/> over an image file or a block device, using positional reads
/// (<see cref="RandomAccess"/>) so concurrent readers never share a file position. Opened read-only:
/// nothing reached through this can write to the source. A block device is read past the page cache
/// (<see cref="UncachedReader"/>), which does not see what a mounted file system or another host writes.
/// </summary>
public sealed class FileBlockSource : IBlockSource, IDisposable
{
    readonly SafeFileHandle handle;
    readonly UncachedReader? uncached;

    public FileBlockSource(string path, string? deviceId = null)
    {
        Path = path;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            throw new Core.Errors.UserFacingException($"{path}: cannot open: {e.Message}", e, 2);
        }
        LengthBytes = DeviceGeometry.GetLengthBytes(handle, path);
        LogicalBlockSize = DeviceGeometry.GetLogicalBlockSize(handle, path);
        DeviceId = deviceId ?? System.IO.Path.GetFullPath(path);
        try
        {
            if (DeviceGeometry.IsBlockDevice(path)) uncached = UncachedReader.Open(path, LogicalBlockSize);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public string Path { get; }
    public long LengthBytes { get; }
    public int LogicalBlockSize { get; }
    public string DeviceId { get; }

    public void ReadAt(long offsetBytes, Span<byte> buffer)
    {
        if (offsetBytes < 0 || offsetBytes + buffer.Length > LengthBytes)
            throw new EndOfStreamException($"{Path}: read of {buffer.Length} bytes at byte offset {offsetBytes} is past the end of the device ({LengthBytes} bytes)");
        int done = uncached is not null ? uncached.ReadUpTo(buffer, offsetBytes) : PositionalRead.ReadUpTo(handle, buffer, offsetBytes, Path);
        if (done < buffer.Length) throw new EndOfStreamException($"{Path}: unexpected end of file at byte offset {offsetBytes + done}");
    }

    public void Dispose()
    {
        uncached?.Dispose();
        handle.Dispose();
    }
}
