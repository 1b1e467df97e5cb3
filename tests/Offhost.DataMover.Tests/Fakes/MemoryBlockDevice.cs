using Offhost.Core.Devices;
using Offhost.Core.Units;

namespace Offhost.DataMover.Tests.Fakes;

/// <summary>An in-memory block device. Counts reads and writes so tests can see coalescing and prove a source was never written.</summary>
public sealed class MemoryBlockDevice(byte[] data, string deviceId = "memory-disk", int blockSizeBytes = 512, bool readOnly = false) : IBlockDevice
{
    int reads, writes;

    public byte[] Data => data;
    public string DeviceId => deviceId;
    public int BlockSizeBytes => blockSizeBytes;
    public long BlockCount => data.Length / blockSizeBytes;
    public bool IsReadOnly => readOnly;
    public int Reads => reads;
    public int Writes => writes;

    public static MemoryBlockDevice Random(int seed, int blocks, string deviceId = "memory-disk", int blockSizeBytes = 512, bool readOnly = true) =>
        new(Testing.TestData.Random(seed, blocks * blockSizeBytes), deviceId, blockSizeBytes, readOnly);

    public static MemoryBlockDevice Blank(int blocks, string deviceId = "memory-blank", int blockSizeBytes = 512) =>
        new(new byte[blocks * blockSizeBytes], deviceId, blockSizeBytes);

    public ValueTask ReadAsync(Lba lba, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        Check(lba, buffer.Length);
        Interlocked.Increment(ref reads);
        data.AsSpan((int)lba.ToByteOffset(blockSizeBytes), buffer.Length).CopyTo(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public ValueTask WriteAsync(Lba lba, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        if (readOnly) throw new InvalidOperationException($"{deviceId} is read-only");
        Check(lba, buffer.Length);
        Interlocked.Increment(ref writes);
        buffer.Span.CopyTo(data.AsSpan((int)lba.ToByteOffset(blockSizeBytes)));
        return ValueTask.CompletedTask;
    }

    void Check(Lba lba, int length)
    {
        if (length % blockSizeBytes != 0) throw new ArgumentException($"{length} bytes is not whole blocks");
        if (lba.Value < 0 || lba.ToByteOffset(blockSizeBytes) + length > data.Length)
            throw new IOException($"{deviceId}: {lba} + {length} bytes is beyond the end");
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
