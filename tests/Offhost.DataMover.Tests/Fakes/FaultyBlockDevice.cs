using Offhost.Core.Devices;
using Offhost.Core.Units;

namespace Offhost.DataMover.Tests.Fakes;

/// <summary>Wraps a block device and fails every read that touches <paramref name="badLba"/> with an I/O error, as a bad
/// sector does.</summary>
public sealed class FaultyBlockDevice(IBlockDevice inner, long badLba) : IBlockDevice
{
    public string DeviceId => inner.DeviceId;
    public int BlockSizeBytes => inner.BlockSizeBytes;
    public long BlockCount => inner.BlockCount;
    public bool IsReadOnly => inner.IsReadOnly;

    public ValueTask ReadAsync(Lba lba, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        long blocks = buffer.Length / BlockSizeBytes;
        if (badLba >= lba.Value && badLba < lba.Value + blocks)
            throw new IOException($"{DeviceId}: unrecovered read error at LBA {badLba}");
        return inner.ReadAsync(lba, buffer, cancellationToken);
    }

    public ValueTask WriteAsync(Lba lba, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) => inner.WriteAsync(lba, buffer, cancellationToken);
    public ValueTask FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
