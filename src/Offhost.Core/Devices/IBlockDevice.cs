using Offhost.Core.Units;

namespace Offhost.Core.Devices;

/// <summary>
/// A random-access device addressed in logical blocks: an image file, a Linux block device or an iSCSI LUN.
/// The copy manager reads and writes through this. Thread-safe: reads and writes may be issued concurrently.
/// </summary>
public interface IBlockDevice : IAsyncDisposable
{
    /// <summary>Stable identity (NAA designator as hex, WWN, by-id name, or an image id).</summary>
    string DeviceId { get; }

    /// <summary>Logical block size in bytes.</summary>
    int BlockSizeBytes { get; }

    /// <summary>Number of logical blocks on the device.</summary>
    long BlockCount { get; }

    /// <summary>True when the device was opened for reading only; writes then throw <see cref="InvalidOperationException"/>.</summary>
    bool IsReadOnly { get; }

    /// <summary>Reads <c>buffer.Length / BlockSizeBytes</c> blocks starting at <paramref name="lba"/>.
    /// The buffer length must be a whole number of blocks.</summary>
    ValueTask ReadAsync(Lba lba, Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Writes whole blocks starting at <paramref name="lba"/>.</summary>
    ValueTask WriteAsync(Lba lba, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Makes written blocks durable (fsync / SYNCHRONIZE CACHE).</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken);
}
