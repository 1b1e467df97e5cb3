using Offhost.Core.Devices;

namespace Offhost.Server.Restore;

/// <summary>Reads the records of one tape file as a byte stream.</summary>
public static class TapeFileReader
{
    /// <summary>Positions at the start of tape file <paramref name="fileNumber"/> and passes its records to
    /// <paramref name="sink"/> until the filemark, the end of data, or until the sink returns false.
    /// Returns the bytes read.</summary>
    public static Task<long> ReadAsync(IStreamDevice tape, long fileNumber, Func<ReadOnlyMemory<byte>, bool> sink, CancellationToken cancellationToken) =>
        ReadAsync(tape, new TapePosition(fileNumber, 0), sink, cancellationToken);

    /// <summary>As <see cref="ReadAsync(IStreamDevice, long, Func{ReadOnlyMemory{byte}, bool}, CancellationToken)"/>, from record
    /// <see cref="TapePosition.RecordInFile"/> of the file.</summary>
    public static async Task<long> ReadAsync(IStreamDevice tape, TapePosition from, Func<ReadOnlyMemory<byte>, bool> sink, CancellationToken cancellationToken)
    {
        await tape.LocateAsync(from, cancellationToken);
        var buffer = new byte[tape.MaxRecordBytes];
        long total = 0;
        while (true)
        {
            var r = await tape.ReadRecordAsync(buffer, cancellationToken);
            if (r.Kind != TapeReadKind.Record) return total;
            if (r.LengthBytes > buffer.Length)
                throw new IOException($"tape file {from.FileNumber}: record of {r.LengthBytes} bytes exceeds the largest record the device reads ({buffer.Length})");
            total += r.LengthBytes;
            if (!sink(buffer.AsMemory(0, r.LengthBytes))) return total;
        }
    }

    /// <summary>Reads a whole tape file into memory, refusing one larger than <paramref name="maxBytes"/>.</summary>
    public static async Task<byte[]> ReadAllAsync(IStreamDevice tape, long fileNumber, long maxBytes, CancellationToken cancellationToken)
    {
        var output = new MemoryStream();
        await ReadAsync(tape, fileNumber, chunk =>
        {
            if (output.Length + chunk.Length > maxBytes)
                throw new InvalidDataException($"tape file {fileNumber} is larger than {maxBytes} bytes");
            output.Write(chunk.Span);
            return true;
        }, cancellationToken);
        return output.ToArray();
    }

    /// <summary>Reads bytes [offset, offset+length) of tape file <paramref name="fileNumber"/>. With
    /// <paramref name="fullRecordBytes"/> the file is taken to consist of records of exactly that size up to the range, and
    /// reading starts at the record that holds <paramref name="offset"/> (the caller checks what it gets); otherwise at the
    /// file's first record.</summary>
    public static async Task<byte[]> ReadRangeAsync(IStreamDevice tape, long fileNumber, long offset, long length, CancellationToken cancellationToken,
        int fullRecordBytes = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var result = new byte[length];
        long firstRecord = fullRecordBytes > 0 ? offset / fullRecordBytes : 0;
        long pos = firstRecord * fullRecordBytes;
        int filled = 0;
        await ReadAsync(tape, new TapePosition(fileNumber, firstRecord), chunk =>
        {
            long start = Math.Max(offset, pos), end = Math.Min(offset + length, pos + chunk.Length);
            if (end > start)
            {
                chunk.Span.Slice((int)(start - pos), (int)(end - start)).CopyTo(result.AsSpan((int)(start - offset)));
                filled += (int)(end - start);
            }
            pos += chunk.Length;
            return pos < offset + length;
        }, cancellationToken);
        if (filled != length) throw new InvalidDataException($"tape file {fileNumber} ends before byte {offset + length}");
        return result;
    }
}
