using Offhost.Core.Devices;
using Offhost.Scsi.Commands;
using Offhost.Scsi.Sense;

namespace Offhost.Iscsi.Initiator;

/// <summary>
/// An iSCSI sequential-access LUN (SSC) as <see cref="IStreamDevice"/> in variable-block mode. The position is
/// tracked here, counted from REWIND, because targets such as tgt have neither LOCATE nor a usable READ POSITION:
/// locate is rewind + SPACE filemarks + record-by-record reads. Sense data is read the way tgt reports it: a short
/// or long record is NO SENSE + ILI with INFORMATION = requested − actual; a filemark is NO SENSE + FILEMARK (the
/// position is then after it); end of data is BLANK CHECK (+EOM) or 00h/05h; EOM on WRITE means the record
/// was written inside the early-warning zone; fixed-mode end of data comes back as MEDIUM ERROR 31h/00h.
/// Tape commands change the position, so none is retried after a dropped connection. Not thread-safe.
/// </summary>
public sealed class IscsiTapeDevice : IStreamDevice
{
    const int DefaultMaxRecordBytes = 1024 * 1024;

    readonly LunConnection _lun;
    readonly byte[] _probe = new byte[1];
    int _fixedBlockLengthBytes;

    IscsiTapeDevice(LunConnection lun, string deviceId, int maxRecordBytes, StandardInquiryData inquiry)
    {
        _lun = lun;
        DeviceId = deviceId;
        MaxRecordBytes = maxRecordBytes;
        Inquiry = inquiry;
    }

    public string DeviceId { get; }
    public int MaxRecordBytes { get; }
    public TapePosition Position { get; private set; }
    public StandardInquiryData Inquiry { get; }

    /// <summary>The session in use.</summary>
    public IscsiSession Session => _lun.Session;

    internal static async Task<IscsiTapeDevice> OpenAsync(IscsiUri uri, IscsiInitiatorOptions options, CancellationToken cancellationToken)
    {
        var lun = await LunConnection.OpenAsync(uri, options, cancellationToken);
        try
        {
            var inquiry = await LunIdentity.InquireAsync(lun, cancellationToken);
            if (inquiry.DeviceType != PeripheralDeviceType.SequentialAccess)
                throw new Offhost.Core.Errors.UserFacingException($"{uri}: LUN {uri.Lun} is a {inquiry.DeviceType} device ({inquiry.Vendor} {inquiry.Product}), not a tape", 2);
            string id = await LunIdentity.DeviceIdAsync(lun, cancellationToken);

            var limits = new byte[ReadBlockLimits.DataLength];
            var r = (await lun.ExecuteAsync(() => new ScsiCommand { Cdb = ReadBlockLimits.Cdb(), Lun = lun.Lun, Name = "READ BLOCK LIMITS", DataIn = limits },
                retryable: true, cancellationToken)).ThrowIfNotGood($"{lun.Name}: READ BLOCK LIMITS");
            var blockLimits = ReadBlockLimits.Parse(limits.AsSpan(0, r.DataInBytes));
            int max = blockLimits.MaxBlockLengthBytes > 0 ? blockLimits.MaxBlockLengthBytes : DefaultMaxRecordBytes;

            var device = new IscsiTapeDevice(lun, id, Math.Min(max, TapeRead6.MaxTransferLength), inquiry);
            await device.EnsureVariableModeAsync(cancellationToken);
            await device.RewindAsync(cancellationToken);
            return device;
        }
        catch
        {
            await lun.DisposeAsync();
            throw;
        }
    }

    async Task EnsureVariableModeAsync(CancellationToken cancellationToken)
    {
        var sense = new byte[255];
        var r = await _lun.ExecuteAsync(() => new ScsiCommand { Cdb = ModeSense6.Cdb(0, 255), Lun = _lun.Lun, Name = "MODE SENSE(6)", DataIn = sense },
            retryable: true, cancellationToken);
        if (!r.IsGood) return;                             // nothing to learn; variable mode is the SSC default
        var mode = ModeSense6.Parse(sense.AsSpan(0, r.DataInBytes));
        if (mode.BlockLengthBytes is not > 0) return;
        var parameters = ModeSelect6.BlockDescriptorList(mode.DensityCode ?? 0, 0);
        var s = await _lun.ExecuteAsync(() => new ScsiCommand
        {
            Cdb = ModeSelect6.Cdb((byte)parameters.Length), Lun = _lun.Lun, Name = "MODE SELECT(6) variable blocks", DataOut = parameters,
        }, retryable: true, cancellationToken);
        if (!s.IsGood)
        {
            _fixedBlockLengthBytes = mode.BlockLengthBytes.Value;
            s.ThrowIfNotGood($"{_lun.Name}: MODE SELECT(6) to variable-length records (drive is in fixed mode, {_fixedBlockLengthBytes}-byte blocks)");
        }
    }

    Task<ScsiResult> RunAsync(byte[] cdb, string name, CancellationToken cancellationToken, Memory<byte> dataIn = default, ReadOnlyMemory<byte> dataOut = default) =>
        _lun.ExecuteAsync(() => new ScsiCommand { Cdb = cdb, Lun = _lun.Lun, Name = name, DataIn = dataIn, DataOut = dataOut },
            retryable: false, cancellationToken);

    public async ValueTask<TapeWriteStatus> WriteRecordAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
    {
        if (record.Length == 0) throw new ArgumentException("a tape record has at least one byte", nameof(record));
        if (record.Length > MaxRecordBytes) throw new ArgumentException($"record of {record.Length} bytes exceeds the drive's maximum of {MaxRecordBytes}", nameof(record));
        var result = await RunAsync(TapeWrite6.Cdb(record.Length), $"WRITE(6) {record.Length} bytes at {Position}", cancellationToken, dataOut: record);
        if (result.IsGood)
        {
            Position = Position with { RecordInFile = Position.RecordInFile + 1 };
            return TapeWriteStatus.Ok;
        }
        if (result.Sense is { } sense)
        {
            if (sense.Key == SenseKey.VolumeOverflow)
                throw new EndOfMediumException($"{_lun.Name}: the medium is full at {Position}; the {record.Length}-byte record was not written");
            if (sense.EndOfMedium && sense.Key is SenseKey.NoSense or SenseKey.RecoveredError)
            {
                // The record is on the medium; this is the early warning that the end is near.
                Position = Position with { RecordInFile = Position.RecordInFile + 1 };
                return TapeWriteStatus.EarlyWarning;
            }
        }
        result.ThrowIfNotGood($"{_lun.Name}: WRITE(6) at {Position}");
        return TapeWriteStatus.Ok;
    }

    public async ValueTask WriteFilemarksAsync(int count, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var result = await RunAsync(WriteFilemarks6.Cdb(count), $"WRITE FILEMARKS {count} at {Position}", cancellationToken);
        if (!result.IsGood && !(result.Sense is { EndOfMedium: true, Key: SenseKey.NoSense }))
            result.ThrowIfNotGood($"{_lun.Name}: WRITE FILEMARKS({count}) at {Position}");
        if (count > 0) Position = new TapePosition(Position.FileNumber + count, 0);
    }

    public ValueTask<TapeReadResult> ReadRecordAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        StepAsync(buffer, needData: true, cancellationToken);

    /// <summary>A 1-byte READ(6): the drive moves past the record and reports its length in the incorrect-length
    /// residue, so one round trip learns the length of a record of any size and no data crosses the network.</summary>
    public ValueTask<TapeReadResult> SkipRecordAsync(Memory<byte> scratch, CancellationToken cancellationToken) =>
        StepAsync(_probe, needData: false, cancellationToken);

    async ValueTask<TapeReadResult> StepAsync(Memory<byte> buffer, bool needData, CancellationToken cancellationToken)
    {
        if (buffer.IsEmpty) throw new ArgumentException("the read buffer is empty", nameof(buffer));
        int requested = Math.Min(buffer.Length, TapeRead6.MaxTransferLength);
        var result = await RunAsync(TapeRead6.Cdb(requested), $"READ(6) {requested} bytes at {Position}", cancellationToken, dataIn: buffer[..requested]);
        var outcome = Interpret(result, requested);
        int expectedBytes = Math.Min(requested, outcome.LengthBytes);
        if (needData && outcome.Kind == TapeReadKind.Record && result.DataInBytes < expectedBytes)
        {
            // The target reported the record's length but did not send its data (tgt does so for CHECK CONDITION
            // with ILI on a record longer than the request): step back over it and read it whole.
            if (outcome.LengthBytes > MaxRecordBytes)
                throw new IOException($"{_lun.Name}: record at {Position} is {outcome.LengthBytes} bytes, larger than the drive's maximum {MaxRecordBytes}; its data was not returned");
            await SpaceBlocksAsync(-1, cancellationToken);
            var whole = new byte[outcome.LengthBytes];
            var again = await RunAsync(TapeRead6.Cdb(whole.Length), $"READ(6) {whole.Length} bytes at {Position}", cancellationToken, dataIn: whole);
            var second = Interpret(again, whole.Length);
            if (second.Kind != TapeReadKind.Record || second.LengthBytes != whole.Length || again.DataInBytes != whole.Length)
                throw new IOException($"{_lun.Name}: re-reading the {whole.Length}-byte record at {Position} returned {second.Kind} of {second.LengthBytes} bytes ({again.DataInBytes} transferred)");
            whole.AsSpan(0, expectedBytes).CopyTo(buffer.Span);
        }
        switch (outcome.Kind)
        {
            case TapeReadKind.Record:
                Position = Position with { RecordInFile = Position.RecordInFile + 1 };
                break;
            case TapeReadKind.Filemark:
                Position = new TapePosition(Position.FileNumber + 1, 0);
                break;
        }
        return outcome;
    }

    TapeReadResult Interpret(ScsiResult result, int requested)
    {
        if (result.IsGood)
            return new TapeReadResult(TapeReadKind.Record, result.Underflow ? requested - (int)result.ResidualBytes : requested);
        if (result.Sense is { } sense)
        {
            if (sense.Filemark) return new TapeReadResult(TapeReadKind.Filemark, 0);
            if (IsEndOfData(sense)) return new TapeReadResult(TapeReadKind.EndOfData, 0);
            if (sense.IncorrectLength && sense.Key == SenseKey.NoSense)
            {
                long actual = sense.Information is long info ? requested - info : result.DataInBytes;
                if (actual is < 0 or > int.MaxValue)
                    throw new IOException($"{_lun.Name}: READ(6) at {Position} reports an impossible record length {actual}");
                return new TapeReadResult(TapeReadKind.Record, (int)actual);
            }
        }
        result.ThrowIfNotGood($"{_lun.Name}: READ(6) at {Position}");
        throw new InvalidOperationException("unreachable");
    }

    bool IsEndOfData(SenseData sense) =>
        sense.Key == SenseKey.BlankCheck
        || (sense.Asc == 0x00 && sense.Ascq == 0x05)
        || (_fixedBlockLengthBytes > 0 && sense.Key == SenseKey.MediumError && sense.Asc == 0x31 && sense.Ascq == 0x00);

    public async ValueTask<long> SpaceAsync(SpaceUnit unit, long count, CancellationToken cancellationToken)
    {
        switch (unit)
        {
            case SpaceUnit.Records when count > 0:
                return await SpaceRecordsForwardAsync(count, cancellationToken);
            case SpaceUnit.Records when count < 0:
            {
                // Stay inside the current file: we know how many records precede us in it.
                long back = Math.Min(-count, Position.RecordInFile);
                if (back > 0) await SpaceBlocksAsync(-(int)back, cancellationToken);
                Position = Position with { RecordInFile = Position.RecordInFile - back };
                return -back;
            }
            case SpaceUnit.Filemarks when count > 0:
                return await SpaceFilemarksForwardAsync(count, cancellationToken);
            case SpaceUnit.Filemarks when count < 0:
                return await SpaceFilemarksBackAsync(-count, cancellationToken);
            case SpaceUnit.EndOfData:
                return await SpaceFilemarksForwardAsync(long.MaxValue, cancellationToken);
            default:
                return 0;
        }
    }

    /// <summary>Forward record spacing by reading one byte of each record: SPACE(blocks) on tgt steps over filemarks
    /// without reporting them, which would silently lose the position. A filemark ends the spacing with the
    /// position after it (SSC); end of data ends it where it is.</summary>
    async Task<long> SpaceRecordsForwardAsync(long count, CancellationToken cancellationToken)
    {
        for (long done = 0; done < count; done++)
        {
            var r = await SkipRecordAsync(_probe, cancellationToken);
            if (r.Kind != TapeReadKind.Record) return done;
        }
        return count;
    }

    async Task<long> SpaceFilemarksForwardAsync(long count, CancellationToken cancellationToken)
    {
        for (long done = 0; done < count; done++)
        {
            var result = await RunAsync(Space6.Cdb(Space6.Code.Filemarks, 1), $"SPACE 1 filemark at {Position}", cancellationToken);
            if (result.IsGood)
            {
                Position = new TapePosition(Position.FileNumber + 1, 0);
                continue;
            }
            if (result.Sense is { } sense && IsEndOfData(sense))
            {
                await RecountLastFileAsync(cancellationToken);
                return done;
            }
            result.ThrowIfNotGood($"{_lun.Name}: SPACE filemarks at {Position}");
        }
        return count;
    }

    /// <summary>We are at end of data somewhere in file <see cref="TapePosition.FileNumber"/>: count its records from its start.</summary>
    async Task RecountLastFileAsync(CancellationToken cancellationToken)
    {
        long file = Position.FileNumber;
        await LocateFileAsync(file, cancellationToken);
        while (true)
        {
            var r = await SkipRecordAsync(_probe, cancellationToken);
            if (r.Kind == TapeReadKind.EndOfData) return;
            if (r.Kind == TapeReadKind.Filemark)
                throw new IOException($"{_lun.Name}: found a filemark after end of data was reported in file {file}; the tape changed under us");
        }
    }

    async Task<long> SpaceFilemarksBackAsync(long count, CancellationToken cancellationToken)
    {
        long crossed = Math.Min(count, Position.FileNumber);
        if (crossed == 0)
        {
            await RewindAsync(cancellationToken);
            return 0;
        }
        long file = Position.FileNumber - crossed;
        await LocateFileAsync(file, cancellationToken);
        long records = 0;
        while (true)
        {
            var r = await SkipRecordAsync(_probe, cancellationToken);
            if (r.Kind == TapeReadKind.Filemark) break;
            if (r.Kind == TapeReadKind.EndOfData) throw new IOException($"{_lun.Name}: file {file} has no filemark; the tape changed under us");
            records++;
        }
        // Now just after the filemark that ends file `file`; step back over it (SSC: lands on its BOT side).
        var back = await RunAsync(Space6.Cdb(Space6.Code.Filemarks, -1), $"SPACE -1 filemark at {Position}", cancellationToken);
        back.ThrowIfNotGood($"{_lun.Name}: SPACE -1 filemark");
        Position = new TapePosition(file, records);
        return -crossed;
    }

    async Task SpaceBlocksAsync(int count, CancellationToken cancellationToken)
    {
        var result = await RunAsync(Space6.Cdb(Space6.Code.Blocks, count), $"SPACE {count} blocks at {Position}", cancellationToken);
        if (!result.IsGood && !(result.Sense is { Key: SenseKey.NoSense, Asc: 0x00, Ascq: 0x04 or 0x05 }))
            result.ThrowIfNotGood($"{_lun.Name}: SPACE {count} blocks at {Position}");
    }

    /// <summary>Rewind, then SPACE filemarks to the start of <paramref name="file"/>.</summary>
    async Task LocateFileAsync(long file, CancellationToken cancellationToken)
    {
        await RewindAsync(cancellationToken);
        if (file == 0) return;
        if (file > Space6.MaxCount) throw new ArgumentOutOfRangeException(nameof(file), $"file {file} is beyond what SPACE can reach");
        var result = await RunAsync(Space6.Cdb(Space6.Code.Filemarks, (int)file), $"SPACE {file} filemarks from BOT", cancellationToken);
        if (!result.IsGood)
        {
            if (result.Sense is { } sense && IsEndOfData(sense))
            {
                await RewindAsync(cancellationToken);
                throw new IOException($"{_lun.Name}: the tape has fewer than {file + 1} files; rewound");
            }
            result.ThrowIfNotGood($"{_lun.Name}: SPACE {file} filemarks");
        }
        Position = new TapePosition(file, 0);
    }

    public async ValueTask RewindAsync(CancellationToken cancellationToken)
    {
        (await RunAsync(Rewind.Cdb(), "REWIND", cancellationToken)).ThrowIfNotGood($"{_lun.Name}: REWIND");
        Position = new TapePosition(0, 0);
    }

    public async ValueTask LocateAsync(TapePosition position, CancellationToken cancellationToken)
    {
        if (position.FileNumber < 0 || position.RecordInFile < 0) throw new ArgumentOutOfRangeException(nameof(position));
        await LocateFileAsync(position.FileNumber, cancellationToken);
        long spaced = await SpaceRecordsForwardAsync(position.RecordInFile, cancellationToken);
        if (spaced != position.RecordInFile)
            throw new IOException($"{_lun.Name}: file {position.FileNumber} has only {spaced} records, cannot locate {position}; now at {Position}");
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        // WRITE FILEMARKS with a count of 0 writes buffered records to the medium (SSC-4 §7.15).
        var result = await RunAsync(WriteFilemarks6.Cdb(0), "WRITE FILEMARKS 0", cancellationToken);
        if (!result.IsGood && !(result.Sense is { EndOfMedium: true, Key: SenseKey.NoSense }))
            result.ThrowIfNotGood($"{_lun.Name}: WRITE FILEMARKS(0)");
    }

    /// <summary>LOAD (true) or UNLOAD (false) the medium.</summary>
    public async ValueTask LoadAsync(bool load, CancellationToken cancellationToken)
    {
        (await RunAsync(LoadUnload.Cdb(load), load ? "LOAD" : "UNLOAD", cancellationToken)).ThrowIfNotGood($"{_lun.Name}: {(load ? "LOAD" : "UNLOAD")}");
        Position = new TapePosition(0, 0);
    }

    public ValueTask DisposeAsync() => _lun.DisposeAsync();
}
