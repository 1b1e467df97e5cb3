using Offhost.Core.Devices;

namespace Offhost.DataMover.Tests.Fakes;

/// <summary>
/// An in-memory variable-block tape: records and filemarks in order, a position, and a capacity in data bytes. A write
/// that does not fit throws <see cref="EndOfMediumException"/> and writes nothing; a write that ends beyond
/// <see cref="EarlyWarningBytes"/> succeeds and reports <see cref="TapeWriteStatus.EarlyWarning"/>. Writing truncates
/// everything after the position, as on a real drive.
/// </summary>
public sealed class MemoryTapeDevice(string deviceId = "memory-tape", long capacityBytes = long.MaxValue, long earlyWarningBytes = long.MaxValue) : IStreamDevice
{
    readonly List<byte[]?> objects = [];   // null = filemark
    int position;

    public string DeviceId => deviceId;
    public int MaxRecordBytes { get; init; } = 16 << 20;
    public long EarlyWarningBytes => earlyWarningBytes;
    public int WriteCalls { get; private set; }

    public IReadOnlyList<byte[]?> Objects => objects;
    public IEnumerable<byte[]> Records => objects.Where(o => o is not null)!;
    public byte[] Data => objects.Where(o => o is not null).SelectMany(o => o!).ToArray();
    long UsedBytes => objects.Sum(o => o?.Length ?? 0);

    public TapePosition Position
    {
        get
        {
            long file = 0, rec = 0;
            for (int i = 0; i < position; i++)
            {
                if (objects[i] is null) { file++; rec = 0; }
                else rec++;
            }
            return new TapePosition(file, rec);
        }
    }

    public ValueTask<TapeWriteStatus> WriteRecordAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        WriteCalls++;
        objects.RemoveRange(position, objects.Count - position);
        if (UsedBytes + record.Length > capacityBytes)
            throw new EndOfMediumException($"{deviceId}: a {record.Length}-byte record does not fit");
        objects.Add(record.ToArray());
        position++;
        return ValueTask.FromResult(UsedBytes > earlyWarningBytes ? TapeWriteStatus.EarlyWarning : TapeWriteStatus.Ok);
    }

    public ValueTask WriteFilemarksAsync(int count, CancellationToken cancellationToken)
    {
        objects.RemoveRange(position, objects.Count - position);
        for (int i = 0; i < count; i++) { objects.Add(null); position++; }
        return ValueTask.CompletedTask;
    }

    public ValueTask<TapeReadResult> ReadRecordAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (position >= objects.Count) return ValueTask.FromResult(new TapeReadResult(TapeReadKind.EndOfData, 0));
        var o = objects[position++];
        if (o is null) return ValueTask.FromResult(new TapeReadResult(TapeReadKind.Filemark, 0));
        o.AsSpan(0, Math.Min(o.Length, buffer.Length)).CopyTo(buffer.Span);
        return ValueTask.FromResult(new TapeReadResult(TapeReadKind.Record, o.Length));
    }

    public ValueTask<long> SpaceAsync(SpaceUnit unit, long count, CancellationToken cancellationToken)
    {
        long done = 0;
        switch (unit)
        {
            case SpaceUnit.EndOfData:
                position = objects.Count;
                break;
            case SpaceUnit.Records when count >= 0:
                while (done < count && position < objects.Count && objects[position] is not null) { position++; done++; }
                break;
            case SpaceUnit.Records:
                while (done < -count && position > 0 && objects[position - 1] is not null) { position--; done++; }
                done = -done;
                break;
            case SpaceUnit.Filemarks when count >= 0:
                while (done < count && position < objects.Count) { if (objects[position++] is null) done++; }
                break;
            case SpaceUnit.Filemarks:
                while (done < -count && position > 0) { if (objects[--position] is null) done++; }
                done = -done;
                break;
        }
        return ValueTask.FromResult(done);
    }

    public ValueTask RewindAsync(CancellationToken cancellationToken)
    {
        position = 0;
        return ValueTask.CompletedTask;
    }

    public ValueTask LocateAsync(TapePosition target, CancellationToken cancellationToken)
    {
        position = 0;
        long file = 0;
        while (file < target.FileNumber && position < objects.Count) { if (objects[position++] is null) file++; }
        position = (int)Math.Min(objects.Count, position + target.RecordInFile);
        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
