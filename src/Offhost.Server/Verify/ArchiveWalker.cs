using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Formats.Tape.Pax;

namespace Offhost.Server.Verify;

/// <summary>Receives the members of an archive as <see cref="ArchiveWalker"/> reads them.</summary>
public interface IArchiveVisitor
{
    /// <summary>A member's headers are decoded; return true to receive its data through <see cref="OnData"/>.</summary>
    bool OnMember(PaxMemberHeader member);

    /// <summary>Consecutive bytes of one data segment: <paramref name="offsetInSegmentBytes"/> counts from the segment's start.
    /// The span is only valid during the call.</summary>
    void OnData(PaxMemberHeader member, PaxDataSegment segment, long offsetInSegmentBytes, ReadOnlySpan<byte> bytes);

    /// <summary>All of the member's bytes (data and padding) have been read.</summary>
    void OnMemberEnd(PaxMemberHeader member);
}

/// <summary>How an archive pass ended.</summary>
/// <param name="ArchiveBytes">Bytes of the archive up to and including the end-of-archive marker (or to where it ended).</param>
/// <param name="Members">Members read.</param>
/// <param name="EndOfArchive">True when the two zero blocks that end a tar archive were found.</param>
public sealed record ArchiveWalk(long ArchiveBytes, long Members, bool EndOfArchive);

/// <summary>
/// Reads one archive tape file sequentially, record by record, in one pass: headers go through
/// <see cref="PaxHeaderReader"/>, data the visitor wants is handed over in place from the record buffer, and the rest
/// is read past without being kept. Memory is one record plus one member's headers. Not thread-safe.
/// </summary>
public static class ArchiveWalker
{
    /// <param name="startOffsetBytes">Archive offset of a member header to start at (bytes before it are read past); 0 for the whole archive.</param>
    public static async Task<ArchiveWalk> WalkAsync(IStreamDevice tape, long archiveFile, IArchiveVisitor visitor, Action<long>? progressBytes,
        CancellationToken cancellationToken, long startOffsetBytes = 0)
    {
        var cursor = new RecordCursor(tape, archiveFile, progressBytes);
        await tape.LocateAsync(new TapePosition(archiveFile, 0), cancellationToken);
        await cursor.SkipAsync(startOffsetBytes, "tar archive", cancellationToken);
        var reader = new PaxHeaderReader();
        var headerBuffer = new byte[PaxLayout.BlockBytes * 16];
        long members = 0;
        while (true)
        {
            int need = reader.NeededBytes;
            if (headerBuffer.Length < need) headerBuffer = new byte[need];
            long at = cursor.OffsetBytes;
            int got = await cursor.ReadAsync(headerBuffer.AsMemory(0, need), cancellationToken);
            if (got < need)
            {
                // A clean end right at a member boundary is still an archive without its end marker.
                if (got == 0 && reader.NeededBytes == PaxLayout.BlockBytes) return new ArchiveWalk(at, members, false);
                CorruptStructure.Truncated("tar header", at, need, got);
            }
            var step = reader.Push(headerBuffer.AsSpan(0, need), at);
            if (step == PaxHeaderStep.EndOfArchive) return new ArchiveWalk(cursor.OffsetBytes, members, true);
            if (step != PaxHeaderStep.Member) continue;

            var m = reader.Member!;
            members++;
            bool want = visitor.OnMember(m);
            long memberPos = m.Layout.HeaderBytes;
            foreach (var seg in m.Layout.Segments)
            {
                await cursor.SkipAsync(seg.MemberOffsetBytes - memberPos, "tar member data", cancellationToken);
                memberPos = seg.MemberOffsetBytes;
                if (want)
                {
                    long done = 0;
                    while (done < seg.LengthBytes)
                    {
                        var chunk = await cursor.NextChunkAsync(seg.LengthBytes - done, cancellationToken);
                        if (chunk.IsEmpty) CorruptStructure.Truncated("tar member data", cursor.OffsetBytes, seg.LengthBytes - done, 0);
                        visitor.OnData(m, seg, done, chunk.Span);
                        done += chunk.Length;
                    }
                }
                else await cursor.SkipAsync(seg.LengthBytes, "tar member data", cancellationToken);
                memberPos += seg.LengthBytes;
            }
            await cursor.SkipAsync(m.Layout.TotalBytes - memberPos, "tar member padding", cancellationToken);
            visitor.OnMemberEnd(m);
        }
    }

    /// <summary>The archive as a byte stream over tape records.</summary>
    sealed class RecordCursor(IStreamDevice tape, long fileNumber, Action<long>? progressBytes)
    {
        readonly byte[] record = new byte[tape.MaxRecordBytes];
        int recordLength, recordPos;
        bool ended;

        /// <summary>Archive offset of the next byte.</summary>
        public long OffsetBytes { get; private set; }

        async ValueTask<bool> FillAsync(CancellationToken ct)
        {
            if (recordPos < recordLength) return true;
            if (ended) return false;
            var r = await tape.ReadRecordAsync(record, ct);
            if (r.Kind != TapeReadKind.Record) { ended = true; return false; }
            if (r.LengthBytes > record.Length)
                throw new IOException($"tape file {fileNumber}: record of {r.LengthBytes} bytes exceeds the largest record the device reads ({record.Length})");
            recordLength = r.LengthBytes;
            recordPos = 0;
            progressBytes?.Invoke(r.LengthBytes);
            return recordLength > 0 || await FillAsync(ct);
        }

        /// <summary>Up to <paramref name="maxBytes"/> bytes in place from the current record; empty at the end of the tape file.</summary>
        public async ValueTask<ReadOnlyMemory<byte>> NextChunkAsync(long maxBytes, CancellationToken ct)
        {
            if (!await FillAsync(ct)) return ReadOnlyMemory<byte>.Empty;
            int n = (int)Math.Min(maxBytes, recordLength - recordPos);
            var chunk = record.AsMemory(recordPos, n);
            recordPos += n;
            OffsetBytes += n;
            return chunk;
        }

        public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken ct)
        {
            int filled = 0;
            while (filled < destination.Length)
            {
                var chunk = await NextChunkAsync(destination.Length - filled, ct);
                if (chunk.IsEmpty) break;
                chunk.CopyTo(destination[filled..]);
                filled += chunk.Length;
            }
            return filled;
        }

        public async ValueTask SkipAsync(long bytes, string structure, CancellationToken ct)
        {
            long left = bytes;
            while (left > 0)
            {
                var chunk = await NextChunkAsync(left, ct);
                if (chunk.IsEmpty) CorruptStructure.Truncated(structure, OffsetBytes, left, 0);
                left -= chunk.Length;
            }
        }
    }
}
