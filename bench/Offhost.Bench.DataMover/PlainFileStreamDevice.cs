using Microsoft.Win32.SafeHandles;
using Offhost.Core.Devices;

namespace Offhost.Bench.DataMover;

/// <summary>A write-only stream device that appends records to a plain file with no framing, the same bytes dd writes.
/// Used as the destination of the engine benchmark. Not thread-safe.</summary>
internal sealed class PlainFileStreamDevice(string path, bool fsyncOnFlush) : IStreamDevice
{
    readonly SafeFileHandle handle = File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.Read, FileOptions.None);
    long offsetBytes;
    long records;

    public string DeviceId => "file:" + path;
    public int MaxRecordBytes => 64 << 20;
    public TapePosition Position => new(0, records);

    // A plain file takes records into the page cache at memory speed, so the write is synchronous: an asynchronous write
    // would only add a thread-pool hop per record, as dd's write(2) does not have.
    public ValueTask<TapeWriteStatus> WriteRecordAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        RandomAccess.Write(handle, record.Span, offsetBytes);
        offsetBytes += record.Length;
        records++;
        return ValueTask.FromResult(TapeWriteStatus.Ok);
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (fsyncOnFlush) RandomAccess.FlushToDisk(handle);
        return ValueTask.CompletedTask;
    }

    public ValueTask WriteFilemarksAsync(int count, CancellationToken cancellationToken) => throw new NotSupportedException();
    public ValueTask<TapeReadResult> ReadRecordAsync(Memory<byte> buffer, CancellationToken cancellationToken) => throw new NotSupportedException();
    public ValueTask<long> SpaceAsync(SpaceUnit unit, long count, CancellationToken cancellationToken) => throw new NotSupportedException();
    public ValueTask RewindAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
    public ValueTask LocateAsync(TapePosition position, CancellationToken cancellationToken) => throw new NotSupportedException();

    public ValueTask DisposeAsync()
    {
        handle.Dispose();
        return ValueTask.CompletedTask;
    }
}
