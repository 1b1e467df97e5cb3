using Offhost.Core.Devices;
using Offhost.Core.Units;

namespace Offhost.DataMover.Tests.Fakes;

/// <summary>Wraps a block device; reads wait until <see cref="Open"/> is called, so a test can observe a copy in progress.</summary>
public sealed class GatedBlockDevice(IBlockDevice inner) : IBlockDevice
{
    readonly TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly TaskCompletionSource started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Waits for the first read; fails at once (instead of waiting for ever) when <paramref name="copy"/> ends first.</summary>
    public async Task WaitForFirstReadAsync(Task copy, CancellationToken cancellationToken)
    {
        var first = await Task.WhenAny(started.Task, copy).WaitAsync(cancellationToken);
        if (first == copy)
        {
            await copy;                                                      // its exception, if it failed
            throw new InvalidOperationException("the copy ended without reading the gated device");
        }
    }
    public void Open() => gate.TrySetResult();

    public string DeviceId => inner.DeviceId;
    public int BlockSizeBytes => inner.BlockSizeBytes;
    public long BlockCount => inner.BlockCount;
    public bool IsReadOnly => inner.IsReadOnly;

    public async ValueTask ReadAsync(Lba lba, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        started.TrySetResult();
        await gate.Task.WaitAsync(cancellationToken);
        await inner.ReadAsync(lba, buffer, cancellationToken);
    }

    public ValueTask WriteAsync(Lba lba, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) => inner.WriteAsync(lba, buffer, cancellationToken);
    public ValueTask FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
