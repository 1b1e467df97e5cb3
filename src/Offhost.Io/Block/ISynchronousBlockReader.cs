using Offhost.Core.Units;

namespace Offhost.Io.Block;

/// <summary>
/// A block device whose reads are plain positional reads that complete on the calling thread (an image file or a
/// Linux block device). A copy pipeline reads such a device from a thread of its own instead of sending each read
/// through the thread pool. Same contract as <see cref="Core.Devices.IBlockDevice.ReadAsync"/>: whole blocks, an
/// <see cref="IOException"/> naming the byte offset on failure. Thread-safe.
/// </summary>
public interface ISynchronousBlockReader
{
    void Read(Lba lba, Span<byte> buffer);
}
