using System.IO.Hashing;
using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Formats.Tape.Index;
using Offhost.Formats.Tape.Pax;
using Offhost.Server.Restore;

namespace Offhost.Server.Verify;

/// <summary>One thing wrong with a backup on tape.</summary>
/// <param name="Path">Member path ("" when the damage is not inside a known member).</param>
/// <param name="Stream">Stream name ("" for the file's data), or null when the problem is not about a stream.</param>
/// <param name="ArchiveOffsetBytes">Byte offset within the archive tape file where the damaged structure or data starts.</param>
/// <param name="Reason">What is wrong.</param>
public sealed record VerifyProblem(string Path, string? Stream, long ArchiveOffsetBytes, string Reason)
{
    public override string ToString() => $"{(Path.Length > 0 ? Path : "archive")}{(Stream is { Length: > 0 } s ? ":" + s : "")} at archive byte {ArchiveOffsetBytes}: {Reason}";
}

/// <summary>The outcome of verifying one backup.</summary>
/// <param name="BackupId">The backup, from its index.</param>
/// <param name="Members">Archive members read.</param>
/// <param name="StreamsChecked">Streams whose checksum was recomputed.</param>
/// <param name="DataBytesChecked">Logical bytes hashed (holes included).</param>
/// <param name="ArchiveBytes">Archive bytes read.</param>
/// <param name="EndOfArchive">True when the end-of-archive marker was found.</param>
/// <param name="Problems">Everything found wrong; empty when the backup is good.</param>
public sealed record VerifyResult(Guid BackupId, long Members, long StreamsChecked, long DataBytesChecked, long ArchiveBytes, bool EndOfArchive,
    IReadOnlyList<VerifyProblem> Problems)
{
    public bool Ok => Problems.Count == 0;
}

/// <summary>
/// Verifies a backup on tape in one pass over its archive: every stream's xxHash64 is recomputed from the archive
/// bytes (headers decoded with <see cref="PaxHeaderReader"/>, GNU sparse maps followed, holes as zeros) and compared
/// with the tape index; every member must sit at the offset the index gives, with the same name, type and size; and
/// the archive must end with its end-of-archive marker. Reads only; never writes the tape.
/// </summary>
public static class VerifyJob
{
    /// <param name="index">The backup's index when the caller already read it; null reads it from tape file <paramref name="archiveFile"/> + 1.</param>
    public static async Task<VerifyResult> RunAsync(IStreamDevice tape, long archiveFile, Action<long>? progressBytes, CancellationToken cancellationToken,
        TapeIndex? index = null)
    {
        index ??= await VolumeRestoreJob.ReadIndexAsync(tape, archiveFile, cancellationToken);
        var visitor = new Visitor(index);
        ArchiveWalk? walk = null;
        long start = 0;
        while (true)
        {
            try
            {
                walk = await ArchiveWalker.WalkAsync(tape, archiveFile, visitor, start == 0 ? progressBytes : null, cancellationToken, start);
                break;
            }
            catch (CorruptStructureException e)
            {
                // Past a damaged header the member boundaries come from the index: the pass resumes at the next indexed member.
                long next = index.Entries.Select(x => x.MemberOffsetBytes).Where(o => o > e.DeviceOffset && o > start).DefaultIfEmpty(-1).Min();
                var damaged = index.Entries.Where(x => x.MemberOffsetBytes <= e.DeviceOffset).MaxBy(x => x.MemberOffsetBytes);
                visitor.Problems.Add(new VerifyProblem(damaged?.Path ?? "", null, e.DeviceOffset, $"{e.Structure}: {e.Reason}"
                    + (next < 0 ? "; nothing after it can be checked" : $"; checking resumes at the next indexed member (archive byte {next})")));
                // The members skipped over are covered by this report, not reported again as missing.
                foreach (var x in index.Entries.Where(x => x.MemberOffsetBytes >= (damaged?.MemberOffsetBytes ?? start) && (next < 0 || x.MemberOffsetBytes < next)))
                    visitor.Seen.Add(x.MemberOffsetBytes);
                if (next < 0) break;
                start = next;
            }
        }
        if (walk is { EndOfArchive: false })
            visitor.Problems.Add(new VerifyProblem("", null, walk.ArchiveBytes, "the archive ends without its end-of-archive marker (two zero blocks)"));
        foreach (var missing in index.Entries.Where(e => !visitor.Seen.Contains(e.MemberOffsetBytes)))
            visitor.Problems.Add(new VerifyProblem(missing.Path, null, missing.MemberOffsetBytes, "in the index but not found in the archive"));
        return new VerifyResult(index.Header.BackupId, walk?.Members ?? visitor.Seen.Count, visitor.Streams, visitor.DataBytes, walk?.ArchiveBytes ?? 0,
            walk?.EndOfArchive ?? false, visitor.Problems);
    }

    sealed class Visitor(TapeIndex index) : IArchiveVisitor
    {
        readonly Dictionary<long, TapeIndexEntry> byOffset = index.Entries.GroupBy(e => e.MemberOffsetBytes).ToDictionary(g => g.Key, g => g.First());
        TapeIndexStream? dataStream;
        LogicalStreamHash? hash;

        public List<VerifyProblem> Problems { get; } = [];
        public HashSet<long> Seen { get; } = [];
        public PaxMemberHeader? Current { get; private set; }
        public long Streams { get; private set; }
        public long DataBytes { get; private set; }

        public bool OnMember(PaxMemberHeader m)
        {
            Current = m;
            dataStream = null;
            hash = null;
            if (!byOffset.TryGetValue(m.ArchiveOffsetBytes, out var entry))
            {
                Problems.Add(new VerifyProblem(m.Path, null, m.ArchiveOffsetBytes, "member is not in the index at this offset"));
                return false;
            }
            Seen.Add(m.ArchiveOffsetBytes);
            if (!string.Equals(entry.Path.TrimEnd('/'), m.Path, StringComparison.Ordinal))
                Problems.Add(new VerifyProblem(m.Path, null, m.ArchiveOffsetBytes, $"the index names this member '{entry.Path}'"));
            if (entry.Kind != m.Kind)
                Problems.Add(new VerifyProblem(m.Path, null, m.ArchiveOffsetBytes, $"member is a {m.Kind}, the index says {entry.Kind}"));
            else if (entry.Device != m.Device)
                Problems.Add(new VerifyProblem(m.Path, null, m.ArchiveOffsetBytes, $"member's device number is {m.Device}, the index says {entry.Device}"));
            // Header fields the index repeats: damage to an extended header shows up here.
            if (entry.Mode != m.Mode || entry.Uid != m.Uid || entry.Gid != m.Gid)
                Problems.Add(new VerifyProblem(m.Path, null, m.ArchiveOffsetBytes, $"mode/owner {Convert.ToString(m.Mode, 8)} {m.Uid}:{m.Gid} differ from the index ({Convert.ToString(entry.Mode, 8)} {entry.Uid}:{entry.Gid})"));
            if (entry.Modified is { } t && m.Modified != t)
                Problems.Add(new VerifyProblem(m.Path, null, m.ArchiveOffsetBytes, $"modification time {m.Modified} differs from the index ({t})"));
            if (entry.LinkTarget is { } link && !string.Equals(link.TrimEnd('/'), m.LinkTarget?.TrimEnd('/'), StringComparison.Ordinal))
                Problems.Add(new VerifyProblem(m.Path, null, m.ArchiveOffsetBytes, $"link target '{m.LinkTarget}' differs from the index ('{link}')"));

            foreach (var s in entry.Streams)
            {
                if (s.Storage == TapeStreamStorage.ExtendedHeader)
                {
                    Streams++;
                    if (!m.Xattrs.TryGetValue("user." + s.Name, out var bytes))
                        Problems.Add(new VerifyProblem(m.Path, s.Name, m.ArchiveOffsetBytes, "stream record missing from the extended header"));
                    else
                    {
                        DataBytes += bytes.Length;
                        if (bytes.Length != s.SizeBytes || XxHash64.HashToUInt64(bytes) != s.XxHash64)
                            Problems.Add(new VerifyProblem(m.Path, s.Name, m.ArchiveOffsetBytes, "checksum of the stream in the extended header does not match the index"));
                    }
                    continue;
                }
                if (s.MemberOffsetBytes != m.ArchiveOffsetBytes) continue;   // held by another member
                dataStream = s;
                long dataOffset = m.ArchiveOffsetBytes + m.Layout.HeaderBytes;   // for sparse members, after the map
                if (m.Kind == PaxEntryKind.File && s.SizeBytes > 0 && dataOffset != s.DataOffsetBytes)
                    Problems.Add(new VerifyProblem(m.Path, s.Name, m.ArchiveOffsetBytes, $"data starts at archive byte {dataOffset}, the index says {s.DataOffsetBytes}"));
                if (s.SizeBytes != m.SizeBytes)
                    Problems.Add(new VerifyProblem(m.Path, s.Name, m.ArchiveOffsetBytes, $"member holds {m.SizeBytes} bytes, the index says {s.SizeBytes}"));
                if (s.Sparse != m.Sparse)
                    Problems.Add(new VerifyProblem(m.Path, s.Name, m.ArchiveOffsetBytes, $"member is {(m.Sparse ? "" : "not ")}sparse, the index says otherwise"));
                hash = new LogicalStreamHash(m.SizeBytes);
            }
            if (m.Kind == PaxEntryKind.File && dataStream is null && m.SizeBytes > 0)
                Problems.Add(new VerifyProblem(m.Path, "", m.ArchiveOffsetBytes, "the index has no checksum for this member's data"));
            return hash is not null;
        }

        public void OnData(PaxMemberHeader member, PaxDataSegment segment, long offsetInSegmentBytes, ReadOnlySpan<byte> bytes) =>
            hash!.Append(segment.FileOffsetBytes + offsetInSegmentBytes, bytes);

        public void OnMemberEnd(PaxMemberHeader m)
        {
            if (hash is null || dataStream is null) return;
            Streams++;
            DataBytes += m.SizeBytes;
            ulong actual = hash.Complete();
            if (actual != dataStream.XxHash64)
            {
                long start = m.Layout.Segments.Count > 0 ? m.ArchiveOffsetBytes + m.Layout.Segments[0].MemberOffsetBytes : m.ArchiveOffsetBytes;
                long end = m.ArchiveOffsetBytes + m.Layout.TotalBytes;
                Problems.Add(new VerifyProblem(m.Path, dataStream.Name, start,
                    $"xxHash64 {actual:X16} of the data in archive bytes [{start}, {end}) does not match the index ({dataStream.XxHash64:X16})"));
            }
        }
    }
}
