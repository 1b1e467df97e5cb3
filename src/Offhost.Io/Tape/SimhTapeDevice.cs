using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Formats.Tape.Label;
using Offhost.Formats.Tape.Simh;
using Offhost.Io.Block;

namespace Offhost.Io.Tape;

/// <summary>
/// A virtual tape: an <see cref="IStreamDevice"/> over a SIMH .tap image (docs/formats/simh-tap.md). Tape file 0
/// holds the Offhost <see cref="VolumeLabel"/> with the medium's capacity and early-warning zone; writes inside
/// file 0 of a labelled tape are refused so the label cannot be destroyed by accident.
/// <para>Writes at the end of the image go through a <see cref="DirectAppendWriter"/> (O_DIRECT, past the page cache, as
/// a drive writes) where the file system allows it, otherwise one positional gather write per record (leader, data,
/// trailer); no fsync until <see cref="FlushAsync"/>. Writing anywhere else truncates the image after the new record, as
/// a real drive forgets everything past the last write. Reads are one scatter read per record that also fetches the
/// next leader; they first put any appended data into the file. After a failed write the position is undefined, as on a
/// drive: reposition before writing again.</para>
/// <para>Operations complete synchronously (positional I/O on the calling thread). Not thread-safe.</para>
/// </summary>
public sealed class SimhTapeDevice : IStreamDevice, IDisposable
{
    /// <summary>Room kept past the last record for two tape marks, so a writer that hit end of medium can still close the tape file.</summary>
    public const int ReservedForTapeMarksBytes = 2 * SimhCodec.LengthWordBytes;

    /// <summary>Bound on one <see cref="WriteFilemarksAsync"/> call (the marks are written from one buffer).</summary>
    public const int MaxFilemarksPerWrite = 1 << 16;

    readonly SafeFileHandle handle;
    readonly bool writable;
    readonly long capacityBytes;
    readonly long earlyWarningStartBytes;
    readonly string path;

    long offsetBytes;
    long fileNumber;
    long recordInFile;
    long lengthBytes;

    /// <summary>fileStarts[k] = image offset where tape file k begins; a known prefix, extended while moving forward.</summary>
    readonly List<long> fileStarts = [0];

    // Reused per-record buffers: no allocation per I/O.
    readonly byte[] leader = new byte[SimhCodec.LengthWordBytes];
    readonly byte[] trailer = new byte[SimhCodec.LengthWordBytes + 1];
    readonly byte[] lookahead = new byte[SimhCodec.LengthWordBytes];
    readonly ReadOnlyMemory<byte>[] gather = new ReadOnlyMemory<byte>[3];
    readonly Memory<byte>[] scatter = new Memory<byte>[3];
    long lookaheadOffset = -1;
    uint lookaheadWord;
    readonly WriteBehind writeBehind;
    DirectAppendWriter? appender;
    bool appendBuffered;   // the file system refused O_DIRECT, or a direct write failed: plain writes from now on

    SimhTapeDevice(string path, SafeFileHandle handle, bool writable, VolumeLabel? label)
    {
        this.path = path;
        this.handle = handle;
        this.writable = writable;
        Label = label;
        capacityBytes = label?.CapacityBytes ?? long.MaxValue;
        earlyWarningStartBytes = label is null ? long.MaxValue : label.CapacityBytes - label.EarlyWarningBytes;
        lengthBytes = RandomAccess.GetLength(handle);
        DeviceId = "simh:" + Path.GetFullPath(path);
        writeBehind = new WriteBehind(handle);
    }

    public string DeviceId { get; }

    /// <summary>The volume label from tape file 0, or null for an image without one (then capacity is unlimited).</summary>
    public VolumeLabel? Label { get; }

    /// <summary>The 24-bit SIMH length field: 16 MiB - 1.</summary>
    public int MaxRecordBytes => SimhCodec.MaxRecordBytes;

    public TapePosition Position => new(fileNumber, recordInFile);

    /// <summary>True while records are being appended through O_DIRECT (see <see cref="DirectAppendWriter"/>).</summary>
    public bool WritesDirect => appender is not null;

    /// <summary>Byte offset of the current position in the image.</summary>
    public long OffsetBytes => offsetBytes;

    /// <summary>Current size of the image in bytes.</summary>
    public long ImageBytes => lengthBytes;

    /// <summary>Creates a new labelled tape: the label record and one filemark. Refuses to overwrite an existing file
    /// unless <paramref name="overwrite"/>. The returned device is positioned at the start of tape file 1.</summary>
    public static SimhTapeDevice Create(string path, VolumeLabel label, bool overwrite = false)
    {
        byte[] labelRecord = VolumeLabelCodec.Encode(label);
        long needed = SimhCodec.EncodedRecordBytes(labelRecord.Length) + SimhCodec.LengthWordBytes + ReservedForTapeMarksBytes;
        if (label.CapacityBytes - label.EarlyWarningBytes < needed)
            throw new ArgumentException($"capacity {label.CapacityBytes} bytes is too small for the label", nameof(label));
        SafeFileHandle h;
        try
        {
            h = File.OpenHandle(path, overwrite ? FileMode.Create : FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read);
        }
        catch (IOException e) when (File.Exists(path) && !overwrite)
        {
            throw new UserFacingException($"{path}: already exists; refusing to relabel a tape (use --force to erase it)", e, 2);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or UnauthorizedAccessException)
        {
            throw new UserFacingException($"{path}: cannot create: {e.Message}", e, 2);
        }
        var device = new SimhTapeDevice(path, h, writable: true, label);
        try
        {
            device.WriteRecordUnchecked(labelRecord);
            device.WriteFilemarksUnchecked(1);
            device.Flush();
        }
        catch
        {
            device.Dispose();
            throw;
        }
        return device;
    }

    /// <summary>Opens an existing image at beginning of tape; reads the label if tape file 0 has one.</summary>
    public static SimhTapeDevice Open(string path, bool writable)
    {
        SafeFileHandle h;
        try
        {
            h = File.OpenHandle(path, FileMode.Open, writable ? FileAccess.ReadWrite : FileAccess.Read, writable ? FileShare.Read : FileShare.ReadWrite);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            throw new UserFacingException($"{path}: cannot open tape: {e.Message}", e, 2);
        }
        try
        {
            return new SimhTapeDevice(path, h, writable, ReadLabel(h, path));
        }
        catch
        {
            h.Dispose();
            throw;
        }
    }

    static VolumeLabel? ReadLabel(SafeFileHandle h, string path)
    {
        long length = RandomAccess.GetLength(h);
        if (length < SimhCodec.LengthWordBytes) return null;
        Span<byte> word = stackalloc byte[4];
        RandomAccess.Read(h, word, 0);
        uint w = BinaryPrimitives.ReadUInt32LittleEndian(word);
        if (w != VolumeLabelCodec.RecordBytes || length < SimhCodec.EncodedRecordBytes(VolumeLabelCodec.RecordBytes)) return null;
        var record = new byte[VolumeLabelCodec.RecordBytes];
        RandomAccess.Read(h, record, SimhCodec.LengthWordBytes);
        if (!VolumeLabelCodec.IsVolumeLabel(record)) return null;
        try { return VolumeLabelCodec.Decode(record, SimhCodec.LengthWordBytes); }
        catch (CorruptStructureException e) { throw new CorruptStructureException($"{path}: {e.Structure}", e.DeviceOffset, e.Reason, e); }
    }

    public ValueTask<TapeWriteStatus> WriteRecordAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        CheckWritable();
        if (record.Length is 0 or > SimhCodec.MaxRecordBytes)
            throw new ArgumentOutOfRangeException(nameof(record), record.Length, $"a record holds 1 to {SimhCodec.MaxRecordBytes} bytes");
        long end = offsetBytes + SimhCodec.EncodedRecordBytes(record.Length);
        if (end > capacityBytes - ReservedForTapeMarksBytes)
            throw new EndOfMediumException($"{DeviceId}: end of medium at {Position}: a record of {record.Length} bytes does not fit (capacity {capacityBytes} bytes, {capacityBytes - offsetBytes} left)");
        WriteRecordUnchecked(record);
        return ValueTask.FromResult(end > earlyWarningStartBytes ? TapeWriteStatus.EarlyWarning : TapeWriteStatus.Ok);
    }

    public ValueTask WriteFilemarksAsync(int count, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxFilemarksPerWrite);
        CheckWritable();
        if (offsetBytes + (long)count * SimhCodec.LengthWordBytes > capacityBytes)
            throw new EndOfMediumException($"{DeviceId}: end of medium at {Position}: no room for {count} filemarks");
        WriteFilemarksUnchecked(count);
        return ValueTask.CompletedTask;
    }

    void WriteRecordUnchecked(ReadOnlyMemory<byte> record)
    {
        SimhCodec.WriteLeader(record.Length, leader);
        int trailerBytes = SimhCodec.WriteTrailer(record.Length, trailer);
        gather[0] = leader;
        gather[1] = record;
        gather[2] = trailer.AsMemory(0, trailerBytes);
        long end = offsetBytes + SimhCodec.LengthWordBytes + record.Length + trailerBytes;
        try { Write(gather); }
        finally { gather[1] = default; }
        TruncateAfter(end);
        offsetBytes = end;
        recordInFile++;
    }

    /// <summary>Writes <paramref name="pieces"/> at the current position: appended direct at the end of the image, else
    /// written in place (the caller then truncates after them).</summary>
    void Write(ReadOnlyMemory<byte>[] pieces)
    {
        try
        {
            if (AppenderAt(offsetBytes) is { } a) { a.Append(pieces); return; }
            RandomAccess.Write(handle, pieces, offsetBytes);
            long end = offsetBytes;
            foreach (var p in pieces) end += p.Length;
            writeBehind.Written(end);
        }
        catch (IOException)
        {
            DropTornWrite();
            throw;
        }
    }

    /// <summary>The direct appender when <paramref name="atBytes"/> is the end of the image (opened on first use), else
    /// null after putting what it holds into the file.</summary>
    DirectAppendWriter? AppenderAt(long atBytes)
    {
        if (appender is not null && appender.EndBytes == atBytes) return appender;
        CloseAppender();
        if (appendBuffered) return null;
        if (atBytes < lengthBytes) TruncateAfter(atBytes);   // everything after a write is gone: cut first, then append
        appender = DirectAppendWriter.TryOpen(path, handle, atBytes);
        appendBuffered = appender is null;
        return appender;
    }

    /// <summary>Puts everything appended into the file, so that it can be read, truncated or synced.</summary>
    void Drain() => appender?.Drain();

    void CloseAppender()
    {
        if (appender is null) return;
        try { appender.Drain(); }
        catch (IOException)
        {
            AbandonAppender();
            throw;
        }
        appender.Dispose();
        appender = null;
    }

    /// <summary>After a failed direct write: records still in its buffers are lost, so the image ends where the file
    /// does; later writes are plain ones.</summary>
    void AbandonAppender()
    {
        appender?.Dispose();
        appender = null;
        appendBuffered = true;
        lengthBytes = RandomAccess.GetLength(handle);
        offsetBytes = Math.Min(offsetBytes, lengthBytes);
        lookaheadOffset = -1;
    }

    void WriteFilemarksUnchecked(int count)
    {
        if (count == 0) return;
        var marks = new byte[count * SimhCodec.LengthWordBytes]; // tape marks are zero words
        Write([marks]);
        long end = offsetBytes + marks.Length;
        TruncateAfter(end);
        for (int i = 0; i < count; i++)
        {
            offsetBytes += SimhCodec.LengthWordBytes;
            fileNumber++;
            if (fileStarts.Count == fileNumber) fileStarts.Add(offsetBytes);
        }
        recordInFile = 0;
    }

    /// <summary>A failed write (e.g. the host disk is full) may leave part of a record; cut the image back to the
    /// last complete object so it stays readable. The position does not move: the write did not happen. A failed
    /// direct append may have lost earlier records still in its buffers: the image ends where the file does.</summary>
    void DropTornWrite()
    {
        try
        {
            if (appender is { Failed: true })
            {
                AbandonAppender();
                return;
            }
            TruncateAfter(offsetBytes);
        }
        catch (IOException) { /* the original error is the one to report */ }
    }

    /// <summary>Everything after a write is gone, as on a real tape; also drop what we knew about it.</summary>
    void TruncateAfter(long endBytes)
    {
        if (lengthBytes > endBytes)
        {
            Drain();
            RandomAccess.SetLength(handle, endBytes);
            writeBehind.Truncated(endBytes);
        }
        lengthBytes = endBytes;
        lookaheadOffset = -1;
        while (fileStarts.Count - 1 > fileNumber) fileStarts.RemoveAt(fileStarts.Count - 1);
    }

    public ValueTask<TapeReadResult> ReadRecordAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        while (true)
        {
            var obj = ObjectAt(offsetBytes);
            switch (obj.Kind)
            {
                case SimhObjectKind.EndOfMedium:
                    return ValueTask.FromResult(new TapeReadResult(TapeReadKind.EndOfData, 0));
                case SimhObjectKind.EraseGap or SimhObjectKind.HalfGap:
                    offsetBytes = obj.EndOffsetBytes;
                    continue;
                case SimhObjectKind.TapeMark:
                    PassFilemarkForward(obj);
                    return ValueTask.FromResult(new TapeReadResult(TapeReadKind.Filemark, 0));
            }
            ReadRecordData(obj, buffer);
            if (obj.Bad)
                throw new TapeMediumException($"{DeviceId}: record of {obj.DataBytes} bytes at byte offset {obj.OffsetBytes} is flagged bad", obj.OffsetBytes, obj.DataBytes);
            return ValueTask.FromResult(new TapeReadResult(TapeReadKind.Record, obj.DataBytes));
        }
    }

    /// <summary>Reads the record's data (as much as fits), its trailer and the next leader in one scatter read, then moves past it.</summary>
    void ReadRecordData(SimhObject obj, Memory<byte> buffer)
    {
        long dataEnd = obj.DataOffsetBytes + obj.DataBytes;
        int fits = Math.Min(buffer.Length, obj.DataBytes);
        // Read the trailer in its padded (standard) form; CheckTrailer also accepts the unpadded E11 form.
        int trailerBytes = (int)Math.Min((obj.DataBytes & 1) + SimhCodec.LengthWordBytes, lengthBytes - dataEnd);
        bool haveLookahead = false;
        if (fits == obj.DataBytes)
        {
            scatter[0] = buffer[..fits];
            scatter[1] = trailer.AsMemory(0, trailerBytes);
            scatter[2] = lookahead;
            long n;
            Drain();
            try { n = RandomAccess.Read(handle, scatter, obj.DataOffsetBytes); }
            finally { scatter[0] = default; }
            if (n < fits + trailerBytes) ReadExactly(buffer[..fits], obj.DataOffsetBytes, trailer.AsMemory(0, trailerBytes), dataEnd);
            haveLookahead = n == fits + trailerBytes + SimhCodec.LengthWordBytes;
        }
        else
        {
            // The rest of the record is lost to the caller, as on a drive in variable mode; its true length is reported.
            ReadExactly(buffer[..fits], obj.DataOffsetBytes, trailer.AsMemory(0, trailerBytes), dataEnd);
        }
        var checkedObj = SimhCodec.CheckTrailer(obj, trailer.AsSpan(0, trailerBytes));
        long next = checkedObj.EndOffsetBytes;
        // The scatter read fetched the 4 bytes after the padded trailer: the next leader, unless the record was E11-form.
        if (haveLookahead && checkedObj.TotalBytes == obj.TotalBytes)
        {
            lookaheadOffset = next;
            lookaheadWord = BinaryPrimitives.ReadUInt32LittleEndian(lookahead);
        }
        offsetBytes = next;
        recordInFile++;
    }

    void ReadExactly(Memory<byte> data, long dataOffset, Memory<byte> trail, long trailOffset)
    {
        ReadFull(data.Span, dataOffset);
        ReadFull(trail.Span, trailOffset);
    }

    void ReadFull(Span<byte> span, long at)
    {
        Drain();
        int done = PositionalRead.ReadUpTo(handle, span, at, DeviceId);
        if (done < span.Length) CorruptStructure.Truncated($"{DeviceId}: SIMH image", at + done, span.Length - done, 0);
    }

    /// <summary>Classifies the object at <paramref name="at"/>, with the record's extent checked against the image.</summary>
    SimhObject ObjectAt(long at)
    {
        long left = lengthBytes - at;
        if (left <= 0) return new SimhObject(SimhObjectKind.EndOfMedium, at, 0, 0, false);
        if (left < SimhCodec.LengthWordBytes) CorruptStructure.Truncated($"{DeviceId}: SIMH length word", at, SimhCodec.LengthWordBytes, left);
        uint word;
        if (lookaheadOffset == at) word = lookaheadWord;
        else
        {
            ReadFull(leader, at);
            word = BinaryPrimitives.ReadUInt32LittleEndian(leader);
        }
        var obj = SimhCodec.ClassifyLeader(word, at);
        if (obj.Kind == SimhObjectKind.Record && obj.DataOffsetBytes + obj.DataBytes + SimhCodec.LengthWordBytes > lengthBytes)
            CorruptStructure.Truncated($"{DeviceId}: SIMH record of {obj.DataBytes} bytes", at, obj.TotalBytes, left);
        return obj;
    }

    /// <summary>True when the object starting at <paramref name="at"/> is cut off by the end of the image.</summary>
    bool RunsPastEnd(long at)
    {
        long left = lengthBytes - at;
        if (left <= 0) return false;
        if (left < SimhCodec.LengthWordBytes) return true;
        ReadFull(leader, at);
        var obj = SimhCodec.ClassifyLeader(BinaryPrimitives.ReadUInt32LittleEndian(leader), at);
        return obj.Kind == SimhObjectKind.Record && obj.DataOffsetBytes + obj.DataBytes + SimhCodec.LengthWordBytes > lengthBytes;
    }

    /// <summary>The record at <paramref name="at"/> with its trailer verified (true extent, E11 form included).</summary>
    SimhObject CheckedObjectAt(long at)
    {
        var obj = ObjectAt(at);
        if (obj.Kind != SimhObjectKind.Record) return obj;
        long dataEnd = obj.DataOffsetBytes + obj.DataBytes;
        int trailerBytes = (int)Math.Min((obj.DataBytes & 1) + SimhCodec.LengthWordBytes, lengthBytes - dataEnd);
        ReadFull(trailer.AsSpan(0, trailerBytes), dataEnd);
        return SimhCodec.CheckTrailer(obj, trailer.AsSpan(0, trailerBytes));
    }

    SimhObject? ObjectBefore(long end)
    {
        if (end <= 0) return null;
        if (end < SimhCodec.LengthWordBytes) CorruptStructure.Truncated($"{DeviceId}: SIMH length word", 0, SimhCodec.LengthWordBytes, end);
        ReadFull(leader, end - SimhCodec.LengthWordBytes);
        var obj = SimhCodec.ClassifyTrailer(BinaryPrimitives.ReadUInt32LittleEndian(leader), end);
        if (obj.Kind != SimhObjectKind.Record) return obj;
        if (obj.OffsetBytes < 0)
            CorruptStructure.Throw($"{DeviceId}: SIMH record trailer", end - SimhCodec.LengthWordBytes, $"length {obj.DataBytes} reaches before beginning of tape");
        var forward = ObjectAt(obj.OffsetBytes);
        CorruptStructure.Check(forward.Kind == SimhObjectKind.Record && forward.DataBytes == obj.DataBytes, $"{DeviceId}: SIMH record leader", obj.OffsetBytes,
            $"does not match the trailing length word at byte offset {end - SimhCodec.LengthWordBytes}");
        return obj;
    }

    void PassFilemarkForward(SimhObject mark)
    {
        offsetBytes = mark.EndOffsetBytes;
        fileNumber++;
        recordInFile = 0;
        if (fileStarts.Count == fileNumber) fileStarts.Add(offsetBytes);
    }

    /// <summary>
    /// SSC semantics: spacing records forward that meets a filemark passes it (position at the start of the next
    /// file) and stops; backward, it stops on the beginning-of-tape side of the filemark. Spacing filemarks
    /// backward also ends on the BOT side of the last filemark crossed. End of data or beginning of tape stop early.
    /// Returns the number of records or filemarks spaced over (not counting a filemark that stopped record spacing).
    /// </summary>
    public ValueTask<long> SpaceAsync(SpaceUnit unit, long count, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long done = unit switch
        {
            SpaceUnit.Records when count >= 0 => SpaceRecordsForward(count, cancellationToken),
            SpaceUnit.Records => SpaceRecordsBackward(-count, cancellationToken),
            SpaceUnit.Filemarks when count >= 0 => SpaceFilemarksForward(count, cancellationToken),
            SpaceUnit.Filemarks => SpaceFilemarksBackward(-count, cancellationToken),
            SpaceUnit.EndOfData => SpaceToEndOfData(cancellationToken),
            _ => throw new ArgumentOutOfRangeException(nameof(unit)),
        };
        return ValueTask.FromResult(done);
    }

    long SpaceRecordsForward(long count, CancellationToken ct)
    {
        long done = 0;
        while (done < count)
        {
            ct.ThrowIfCancellationRequested();
            var obj = CheckedObjectAt(offsetBytes);
            switch (obj.Kind)
            {
                case SimhObjectKind.EndOfMedium: return done;
                case SimhObjectKind.TapeMark: PassFilemarkForward(obj); return done;
                case SimhObjectKind.Record: offsetBytes = obj.EndOffsetBytes; recordInFile++; done++; break;
                default: offsetBytes = obj.EndOffsetBytes; break;
            }
        }
        return done;
    }

    long SpaceRecordsBackward(long count, CancellationToken ct)
    {
        long done = 0;
        while (done < count)
        {
            ct.ThrowIfCancellationRequested();
            var obj = ObjectBefore(offsetBytes);
            if (obj is null) return done;
            var o = obj.Value;
            offsetBytes = o.OffsetBytes;
            lookaheadOffset = -1;
            if (o.Kind == SimhObjectKind.TapeMark)
            {
                // Forward reading found no tape mark between the start of this file and here; a backward one means
                // the image is not what it seemed (e.g. gap words misread), so stop rather than guess.
                CorruptStructure.Check(fileNumber > 0 && o.OffsetBytes >= fileStarts[(int)fileNumber] - SimhCodec.LengthWordBytes,
                    $"{DeviceId}: SIMH tape mark", o.OffsetBytes, "found spacing backwards where reading forwards found none");
                fileNumber--;
                recordInFile = CountRecords(fileStarts[(int)fileNumber], offsetBytes, ct);
                return done;
            }
            if (o.Kind == SimhObjectKind.Record) { recordInFile--; done++; }
        }
        return done;
    }

    long SpaceFilemarksForward(long count, CancellationToken ct)
    {
        long done = 0;
        while (done < count)
        {
            // Jump straight to a start we already know.
            if (fileStarts.Count > fileNumber + 1)
            {
                offsetBytes = fileStarts[(int)fileNumber + 1];
                fileNumber++;
                recordInFile = 0;
                done++;
                continue;
            }
            ct.ThrowIfCancellationRequested();
            var obj = CheckedObjectAt(offsetBytes);
            switch (obj.Kind)
            {
                case SimhObjectKind.EndOfMedium: return done;
                case SimhObjectKind.TapeMark: PassFilemarkForward(obj); done++; break;
                case SimhObjectKind.Record: offsetBytes = obj.EndOffsetBytes; recordInFile++; break;
                default: offsetBytes = obj.EndOffsetBytes; break;
            }
        }
        return done;
    }

    long SpaceFilemarksBackward(long count, CancellationToken ct)
    {
        long done = 0;
        while (done < count && fileNumber > 0)
        {
            ct.ThrowIfCancellationRequested();
            // The filemark ending file N-1 is the 4 bytes before fileStarts[N].
            offsetBytes = fileStarts[(int)fileNumber] - SimhCodec.LengthWordBytes;
            fileNumber--;
            done++;
        }
        lookaheadOffset = -1;
        recordInFile = done > 0 ? CountRecords(fileStarts[(int)fileNumber], offsetBytes, ct) : recordInFile;
        return done;
    }

    /// <summary>Set by spacing to end of data when the image ends inside an object (a record or length word cut short
    /// by an interrupted write, e.g. a killed process or a full disk): the offset where that object starts, where end of
    /// data is reported and where the next write goes, replacing it. Null otherwise.</summary>
    public long? TornTailOffsetBytes { get; private set; }

    long SpaceToEndOfData(CancellationToken ct)
    {
        long files = 0;
        TornTailOffsetBytes = null;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (fileStarts.Count > fileNumber + 1) { SpaceFilemarksForward(1, ct); files++; continue; }
            SimhObject obj;
            try { obj = CheckedObjectAt(offsetBytes); }
            catch (CorruptStructureException) when (RunsPastEnd(offsetBytes))
            {
                TornTailOffsetBytes = offsetBytes;
                return files;
            }
            switch (obj.Kind)
            {
                case SimhObjectKind.EndOfMedium: return files;
                case SimhObjectKind.TapeMark: PassFilemarkForward(obj); files++; break;
                case SimhObjectKind.Record: offsetBytes = obj.EndOffsetBytes; recordInFile++; break;
                default: offsetBytes = obj.EndOffsetBytes; break;
            }
        }
    }

    long CountRecords(long from, long to, CancellationToken ct)
    {
        long records = 0;
        long at = from;
        while (at < to)
        {
            ct.ThrowIfCancellationRequested();
            var obj = CheckedObjectAt(at);
            if (obj.Kind == SimhObjectKind.EndOfMedium) break;
            if (obj.Kind == SimhObjectKind.Record) records++;
            at = obj.EndOffsetBytes;
        }
        return records;
    }

    public ValueTask RewindAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        offsetBytes = 0;
        fileNumber = 0;
        recordInFile = 0;
        return ValueTask.CompletedTask;
    }

    /// <summary>Moves to record <c>RecordInFile</c> of tape file <c>FileNumber</c>. Throws <see cref="IOException"/> (position
    /// unspecified) when the tape has fewer files, or the file fewer records.</summary>
    public async ValueTask LocateAsync(TapePosition position, CancellationToken cancellationToken)
    {
        if (position.FileNumber < 0 || position.RecordInFile < 0) throw new ArgumentOutOfRangeException(nameof(position));
        if (position.FileNumber < fileStarts.Count)
        {
            offsetBytes = fileStarts[(int)position.FileNumber];
            fileNumber = position.FileNumber;
            recordInFile = 0;
        }
        else
        {
            long known = fileStarts.Count - 1;
            offsetBytes = fileStarts[(int)known];
            fileNumber = known;
            recordInFile = 0;
            long need = position.FileNumber - known;
            long got = await SpaceAsync(SpaceUnit.Filemarks, need, cancellationToken);
            if (got != need) throw new IOException($"{DeviceId}: cannot locate {position}: the tape ends in tape file {fileNumber}");
        }
        long records = await SpaceAsync(SpaceUnit.Records, position.RecordInFile, cancellationToken);
        if (records != position.RecordInFile || fileNumber != position.FileNumber)
            throw new IOException($"{DeviceId}: cannot locate {position}: tape file {position.FileNumber} has only {records} records");
    }

    /// <summary>Makes written records durable (fsync).</summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Flush();
        return ValueTask.CompletedTask;
    }

    void Flush()
    {
        if (!writable) return;
        Drain();
        RandomAccess.FlushToDisk(handle);
    }

    /// <summary>Lists every tape file from beginning of tape: records, payload bytes and where it starts. Leaves the position at BOT.</summary>
    public async ValueTask<IReadOnlyList<TapeFileSummary>> ScanAsync(CancellationToken cancellationToken)
    {
        await RewindAsync(cancellationToken);
        var files = new List<TapeFileSummary>();
        long start = 0, records = 0, bytes = 0;
        long at = 0;
        long file = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var obj = CheckedObjectAt(at);
            if (obj.Kind == SimhObjectKind.EndOfMedium)
            {
                if (records > 0 || at > start) files.Add(new TapeFileSummary(file, records, bytes, start, EndedByFilemark: false));
                break;
            }
            at = obj.EndOffsetBytes;
            if (obj.Kind == SimhObjectKind.Record) { records++; bytes += obj.DataBytes; }
            else if (obj.Kind == SimhObjectKind.TapeMark)
            {
                files.Add(new TapeFileSummary(file, records, bytes, start, EndedByFilemark: true));
                file++;
                if (fileStarts.Count == file) fileStarts.Add(at);
                start = at;
                records = 0;
                bytes = 0;
            }
        }
        return files;
    }

    void CheckWritable()
    {
        if (!writable) throw new IOException($"{DeviceId}: opened read-only");
        if (Label is not null && fileNumber == 0)
            throw new IOException($"{DeviceId}: writing in tape file 0 would destroy the volume label {Label.VolumeId}; position to tape file 1 or later");
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Puts appended records into the file (not synced: that is <see cref="FlushAsync"/>) and closes it. Throws
    /// when that write fails, unless an earlier write already failed.</summary>
    public void Dispose()
    {
        try
        {
            if (appender is { Failed: false }) CloseAppender();
        }
        finally
        {
            appender?.Dispose();
            appender = null;
            handle.Dispose();
        }
    }

    public override string ToString() => $"{path} ({Position})";
}
