using Offhost.Core.Devices;

namespace Offhost.Io.Tape;

/// <summary>
/// A plain file or pipe used as a stream device, write-only or read-only. Records are simply concatenated bytes
/// (so a backup image written here is a plain pax archive followed by the index); filemarks leave no trace in the
/// bytes and only advance <see cref="Position"/>. Reads return up to the buffer's length per "record" and
/// <see cref="TapeReadKind.EndOfData"/> at end of file. Spacing and locating are not supported; rewinding only on
/// seekable files. No capacity: never reports early warning. Not thread-safe.
/// </summary>
public sealed class FileStreamDevice : IStreamDevice
{
    readonly Stream stream;
    readonly bool writable;
    readonly bool ownsStream;
    long fileNumber;
    long recordInFile;

    public FileStreamDevice(Stream stream, bool writable, string deviceId, bool ownsStream = true)
    {
        if (writable && !stream.CanWrite) throw new ArgumentException("stream is not writable", nameof(stream));
        if (!writable && !stream.CanRead) throw new ArgumentException("stream is not readable", nameof(stream));
        this.stream = stream;
        this.writable = writable;
        this.ownsStream = ownsStream;
        DeviceId = deviceId;
    }

    /// <summary>Creates (or truncates) <paramref name="path"/> for writing; 1 MiB buffered sequential writes.</summary>
    public static FileStreamDevice CreateWrite(string path) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20, FileOptions.SequentialScan), writable: true, "file:" + Path.GetFullPath(path));

    public static FileStreamDevice OpenRead(string path) =>
        new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan), writable: false, "file:" + Path.GetFullPath(path));

    public string DeviceId { get; }

    /// <summary>Bounded only to keep callers' buffers sane; matches the SIMH limit.</summary>
    public int MaxRecordBytes => Formats.Tape.Simh.SimhCodec.MaxRecordBytes;

    public TapePosition Position => new(fileNumber, recordInFile);

    public async ValueTask<TapeWriteStatus> WriteRecordAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
    {
        if (!writable) throw new IOException($"{DeviceId}: opened read-only");
        await stream.WriteAsync(record, cancellationToken);
        recordInFile++;
        return TapeWriteStatus.Ok;
    }

    public ValueTask WriteFilemarksAsync(int count, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (!writable) throw new IOException($"{DeviceId}: opened read-only");
        if (count > 0) { fileNumber += count; recordInFile = 0; }
        return ValueTask.CompletedTask;
    }

    public async ValueTask<TapeReadResult> ReadRecordAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (writable) throw new IOException($"{DeviceId}: opened write-only");
        int n = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
        if (n == 0) return new TapeReadResult(TapeReadKind.EndOfData, 0);
        recordInFile++;
        return new TapeReadResult(TapeReadKind.Record, n);
    }

    public ValueTask<long> SpaceAsync(SpaceUnit unit, long count, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{DeviceId}: a plain file or pipe cannot be spaced");

    public ValueTask RewindAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!stream.CanSeek) throw new NotSupportedException($"{DeviceId}: a pipe cannot be rewound");
        if (writable) stream.Flush();
        stream.Position = 0;
        fileNumber = 0;
        recordInFile = 0;
        return ValueTask.CompletedTask;
    }

    public ValueTask LocateAsync(TapePosition position, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{DeviceId}: a plain file or pipe cannot be positioned");

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (!writable) return;
        await stream.FlushAsync(cancellationToken);
        if (stream is FileStream fs && fs.CanSeek) fs.Flush(flushToDisk: true);
    }

    public async ValueTask DisposeAsync()
    {
        if (!ownsStream) return;
        await stream.DisposeAsync();
    }
}
