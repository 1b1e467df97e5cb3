using Offhost.Core.Devices;
using Offhost.Core.Units;
using Offhost.Io.Block;

namespace Offhost.DataMover.Tests.Fakes;

/// <summary>Wraps a block device so the read pipeline reads it on its own thread (<see cref="ISynchronousBlockReader"/>), as it
/// does image files and block devices; reads touching <paramref name="badLba"/> fail with an I/O error. Counts reads by
/// path, so a test can see which one was taken.</summary>
public sealed class SynchronousBlockDevice(IBlockDevice inner, long badLba = -1) : IBlockDevice, ISynchronousBlockReader
{
    int synchronousReads, asynchronousReads;

    public int SynchronousReads => synchronousReads;
    public int AsynchronousReads => asynchronousReads;
    public string DeviceId => inner.DeviceId;
    public int BlockSizeBytes => inner.BlockSizeBytes;
    public long BlockCount => inner.BlockCount;
    public bool IsReadOnly => inner.IsReadOnly;

    public void Read(Lba lba, Span<byte> buffer)
    {
        Interlocked.Increment(ref synchronousReads);
        long blocks = buffer.Length / BlockSizeBytes;
        if (badLba >= lba.Value && badLba < lba.Value + blocks)
            throw new IOException($"{DeviceId}: unrecovered read error at LBA {badLba}");
        var copy = new byte[buffer.Length];
        inner.ReadAsync(lba, copy, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        copy.CopyTo(buffer);
    }

    public async ValueTask ReadAsync(Lba lba, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref asynchronousReads);
        long blocks = buffer.Length / BlockSizeBytes;
        if (badLba >= lba.Value && badLba < lba.Value + blocks)
            throw new IOException($"{DeviceId}: unrecovered read error at LBA {badLba}");
        await inner.ReadAsync(lba, buffer, cancellationToken);
    }

    public ValueTask WriteAsync(Lba lba, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) => inner.WriteAsync(lba, buffer, cancellationToken);
    public ValueTask FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
