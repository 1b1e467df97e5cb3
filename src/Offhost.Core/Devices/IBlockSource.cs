namespace Offhost.Core.Devices;

/// <summary>
/// Read-only random access to a device or image, addressed in bytes from the start of the device. The
/// file-system parsers read through this and nothing else, so they never open files themselves: the host
/// supplies an image file, a block device or an iSCSI LUN.
/// Implementations are thread-safe: <see cref="ReadAt"/> may be called concurrently.
/// </summary>
public interface IBlockSource
{
    /// <summary>Size of the device in bytes.</summary>
    long LengthBytes { get; }

    /// <summary>Logical block size in bytes (512 for image files; BLKSSZGET or READ CAPACITY for devices).</summary>
    int LogicalBlockSize { get; }

    /// <summary>Stable identity of the device (NAA/WWN, by-id name, or an image id); see docs/architecture.md.</summary>
    string DeviceId { get; }

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="offsetBytes"/>. Reading past the end throws
    /// <see cref="EndOfStreamException"/>; an I/O failure throws <see cref="IOException"/> naming the offset.</summary>
    void ReadAt(long offsetBytes, Span<byte> buffer);
}

/// <summary>A window onto part of another source (a partition); offsets are relative to the window's start.</summary>
public sealed class SliceBlockSource(IBlockSource inner, long startBytes, long lengthBytes) : IBlockSource
{
    public IBlockSource Inner { get; } = inner;
    public long StartBytes { get; } = startBytes;
    public long LengthBytes { get; } = lengthBytes;
    public int LogicalBlockSize => Inner.LogicalBlockSize;
    public string DeviceId => Inner.DeviceId;

    public void ReadAt(long offsetBytes, Span<byte> buffer)
    {
        if (offsetBytes < 0 || offsetBytes + buffer.Length > LengthBytes)
            throw new EndOfStreamException($"read of {buffer.Length} bytes at {offsetBytes} is past the end of the partition ({LengthBytes} bytes)");
        Inner.ReadAt(StartBytes + offsetBytes, buffer);
    }
}

/// <summary>An in-memory source, for tests and for small embedded images.</summary>
public sealed class MemoryBlockSource(ReadOnlyMemory<byte> data, string deviceId = "memory", int logicalBlockSize = 512) : IBlockSource
{
    public long LengthBytes => data.Length;
    public int LogicalBlockSize => logicalBlockSize;
    public string DeviceId => deviceId;

    public void ReadAt(long offsetBytes, Span<byte> buffer)
    {
        if (offsetBytes < 0 || offsetBytes + buffer.Length > data.Length)
            throw new EndOfStreamException($"read of {buffer.Length} bytes at {offsetBytes} is past the end of the device ({data.Length} bytes)");
        data.Span.Slice((int)offsetBytes, buffer.Length).CopyTo(buffer);
    }
}
