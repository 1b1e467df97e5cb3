namespace Offhost.Core.Devices;

/// <summary>What a record read from a stream device found.</summary>
public enum TapeReadKind { Record, Filemark, EndOfData }

/// <summary>Result of <see cref="IStreamDevice.ReadRecordAsync"/>. For <see cref="TapeReadKind.Record"/>,
/// <see cref="LengthBytes"/> is the record's true length; when it exceeds the buffer, only the buffer's worth
/// was returned and the rest of the record is lost, as on a real drive.</summary>
public readonly record struct TapeReadResult(TapeReadKind Kind, int LengthBytes);

/// <summary>Whether a write landed before or inside the early-warning zone near the end of the medium.</summary>
public enum TapeWriteStatus { Ok, EarlyWarning }

/// <summary>Logical position: tape file number (filemarks passed since BOT) and record number within that file.</summary>
public readonly record struct TapePosition(long FileNumber, long RecordInFile)
{
    public override string ToString() => $"file {FileNumber}, record {RecordInFile}";
}

/// <summary>
/// A sequential (stream) device in variable-block mode: a SIMH .tap virtual tape, an iSCSI SSC tape, or a
/// plain file or pipe. Not thread-safe: one writer or reader at a time, records kept in order.
/// </summary>
public interface IStreamDevice : IAsyncDisposable
{
    string DeviceId { get; }

    /// <summary>The largest record this device accepts, in bytes.</summary>
    int MaxRecordBytes { get; }

    /// <summary>Where the next read or write happens.</summary>
    TapePosition Position { get; }

    /// <summary>Writes one record at the current position; anything after it on the medium is lost.
    /// Throws <see cref="EndOfMediumException"/> when the record does not fit: nothing of it was written.</summary>
    ValueTask<TapeWriteStatus> WriteRecordAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken);

    ValueTask WriteFilemarksAsync(int count, CancellationToken cancellationToken);

    ValueTask<TapeReadResult> ReadRecordAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Moves past the next record, filemark or end of data as <see cref="ReadRecordAsync"/> does and reports
    /// what it was, with the record's true length, where the data is not needed (scans, spacing). A device that can
    /// learn a record's length without transferring it (an SSC drive: a 1-byte READ and the incorrect-length residue)
    /// does so; the default reads the record into <paramref name="scratch"/>, which holds at least one byte.</summary>
    ValueTask<TapeReadResult> SkipRecordAsync(Memory<byte> scratch, CancellationToken cancellationToken) =>
        ReadRecordAsync(scratch, cancellationToken);

    /// <summary>Spaces over <paramref name="count"/> records (stopping at a filemark) or filemarks; negative counts go backwards.
    /// Returns the number actually spaced over.</summary>
    ValueTask<long> SpaceAsync(SpaceUnit unit, long count, CancellationToken cancellationToken);

    ValueTask RewindAsync(CancellationToken cancellationToken);

    /// <summary>Moves to the start of record <paramref name="position"/>.RecordInFile of tape file <paramref name="position"/>.FileNumber.</summary>
    ValueTask LocateAsync(TapePosition position, CancellationToken cancellationToken);

    /// <summary>Makes written records durable.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken);
}

public enum SpaceUnit { Records, Filemarks, EndOfData }

/// <summary>The medium is full: the write that threw did not happen, everything before it is on the medium.</summary>
public class EndOfMediumException(string message) : IOException(message);
