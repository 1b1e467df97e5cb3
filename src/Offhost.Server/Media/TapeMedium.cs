using Offhost.Core.Devices;
using Offhost.Formats.Tape.Label;
using Offhost.Io.Tape;

namespace Offhost.Server.Media;

/// <summary>One tape file as a scan of the medium found it.</summary>
public readonly record struct TapeFileInfo(long FileNumber, long Records, long DataBytes, bool EndedByFilemark);

/// <summary>What any stream device can tell about its medium: the Offhost volume label and the tape files.</summary>
public static class TapeMedium
{
    /// <summary>The Offhost volume label in tape file 0, or null when the tape has none. Leaves the tape rewound.</summary>
    public static async Task<VolumeLabel?> ReadLabelAsync(IStreamDevice tape, CancellationToken cancellationToken)
    {
        if (tape is SimhTapeDevice simh) return simh.Label;
        await tape.RewindAsync(cancellationToken);
        var buffer = new byte[Math.Max(VolumeLabelCodec.RecordBytes, 64 * 1024)];
        var r = await tape.ReadRecordAsync(buffer, cancellationToken);
        await tape.RewindAsync(cancellationToken);
        if (r.Kind != TapeReadKind.Record || r.LengthBytes != VolumeLabelCodec.RecordBytes) return null;
        var record = buffer.AsSpan(0, r.LengthBytes);
        return VolumeLabelCodec.IsVolumeLabel(record) ? VolumeLabelCodec.Decode(record, 0) : null;
    }

    /// <summary>
    /// Every tape file from the beginning of the tape to the end of data. A SIMH image is walked through its record
    /// headers without reading data; any other device (a drive keeps no directory of its tape files) is stepped over
    /// record by record from start to end (<see cref="IStreamDevice.SkipRecordAsync"/>: an SSC drive reports each
    /// record's length without sending it), and <paramref name="firstRecord"/>, when given, sees the first record of
    /// each tape file, the only one read whole.
    /// </summary>
    public static async Task<IReadOnlyList<TapeFileInfo>> ScanAsync(IStreamDevice tape, Action<long, ReadOnlyMemory<byte>>? firstRecord, CancellationToken cancellationToken)
    {
        if (tape is SimhTapeDevice simh && firstRecord is null)
            return [.. (await simh.ScanAsync(cancellationToken)).Select(f => new TapeFileInfo(f.FileNumber, f.Records, f.DataBytes, f.EndedByFilemark))];
        var files = new List<TapeFileInfo>();
        await tape.RewindAsync(cancellationToken);
        var buffer = new byte[tape.MaxRecordBytes];
        long file = 0, records = 0, bytes = 0;
        while (true)
        {
            // Only the first record of a file is wanted (to say what it holds); the others are stepped over.
            var r = records == 0 && firstRecord is not null
                ? await tape.ReadRecordAsync(buffer, cancellationToken)
                : await tape.SkipRecordAsync(buffer, cancellationToken);
            if (r.Kind == TapeReadKind.Record)
            {
                if (records == 0) firstRecord?.Invoke(file, buffer.AsMemory(0, Math.Min(r.LengthBytes, buffer.Length)));
                records++;
                bytes += r.LengthBytes;
                continue;
            }
            if (r.Kind == TapeReadKind.Filemark) files.Add(new TapeFileInfo(file, records, bytes, true));
            else if (records > 0) files.Add(new TapeFileInfo(file, records, bytes, false));
            if (r.Kind == TapeReadKind.EndOfData) return files;
            file++;
            records = 0;
            bytes = 0;
        }
    }
}
