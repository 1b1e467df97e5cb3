using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Index;
using Offhost.Scsi.ExtendedCopy;
using Offhost.Server.Planning;

namespace Offhost.Server.Restore;

/// <summary>A piece of the archive that goes back to the device block for block.</summary>
/// <param name="ArchiveOffsetBytes">Where the bytes are in the archive tape file.</param>
/// <param name="SourceByteOffset">Where they came from on the source device (block aligned).</param>
/// <param name="LengthBytes">A whole number of blocks.</param>
public readonly record struct RestorePiece(long ArchiveOffsetBytes, long SourceByteOffset, long LengthBytes);

/// <summary>
/// Plans the restore of whole volumes from a backup image. The archive layout is recomputed from the storage
/// maps stored in the archive (the planner is deterministic), checked against the tape index, and every block
/// a file member or the volume's remainder member copied verbatim becomes a stream → block segment at its
/// original address; everything between is read and discarded (stream → discard). One pass over the tape.
/// </summary>
public static class VolumeRestorePlanner
{
    /// <summary>Recomputes the archive of <paramref name="maps"/> and returns, per volume, the pieces to write back.</summary>
    public static IReadOnlyList<(VolumeInfo Volume, List<RestorePiece> Pieces)> Plan(
        IReadOnlyList<StoredMap> maps, TapeIndex index, MapTime frozenAt)
    {
        var byPath = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var e in index.Entries) byPath.TryAdd(e.Path, e.MemberOffsetBytes);

        var result = new List<(VolumeInfo, List<RestorePiece>)>();
        long baseOffset = 0;
        for (int v = 0; v < maps.Count; v++)
        {
            var (volume, entries, allocated) = maps[v];
            string prefix = maps.Count > 1 ? $"vol{v + 1}/" : "";
            var planner = new ArchivePlanner(volume, source: null, new ArchivePlanOptions { PathPrefix = prefix });
            var pieces = new List<RestorePiece>();
            foreach (var member in planner.Plan(entries, CancellationToken.None))
                Collect(member, baseOffset, pieces, byPath);
            Collect(planner.PlanVolumeRemainder($".offhost/volume-{v + 1}.remainder", frozenAt, allocated), baseOffset, pieces, byPath);
            result.Add((volume, pieces));
            // the map member follows the remainder; its size is known from the index
            var mapPath = prefix + $".offhost/volume-{v + 1}.map.jsonl.gz";
            var mapEntry = index.Entries.FirstOrDefault(e => e.Path == mapPath)
                ?? throw new InvalidDataException($"tape index has no member {mapPath}");
            long mapMemberBytes = Formats.Tape.Pax.PaxLayout.Of(new Formats.Tape.Pax.PaxEntry(mapPath, Formats.Tape.Pax.PaxEntryKind.File)
            { SizeBytes = mapEntry.SizeBytes, Modified = frozenAt, Mode = 0b110_100_100 }).TotalBytes;
            baseOffset = mapEntry.MemberOffsetBytes + mapMemberBytes;
        }
        return result;
    }

    static void Collect(PlannedMember member, long baseOffset, List<RestorePiece> pieces, Dictionary<string, long> byPath)
    {
        long at = baseOffset + member.MemberOffsetBytes;
        if (byPath.TryGetValue(member.Pax.Path, out long indexed) && indexed != at)
            throw new InvalidDataException($"archive member {member.Pax.Path}: the tape index puts it at byte {indexed}, the stored map at {at}; refusing to restore from an inconsistent backup");
        foreach (var op in member.Ops)
        {
            if (op is BlocksOp b) pieces.Add(new RestorePiece(at, b.Lba * b.BlockSizeBytes, b.Blocks * b.BlockSizeBytes));
            at += op.StreamBytes;
        }
    }

    /// <summary>
    /// Packs pieces (in archive order) into parameter lists of stream → discard and stream → block segments,
    /// reading the archive from its start. Lists end only on record boundaries of the archive (the backup
    /// writes full records, see <see cref="ParameterListBuilder"/>), so no list leaves part of a record unread.
    /// <paramref name="lbaShift"/> moves every block, for restoring a volume onto a device where it sits elsewhere.
    /// </summary>
    public static IEnumerable<ExtendedCopyParameterList> Lists(IEnumerable<RestorePiece> pieces, RestoreTargets targets, OperatingParameters limits)
    {
        int record = targets.RecordBytes;
        // Lists end at record boundaries; a soft limit at a quarter of the maximum leaves room to reach the next one.
        int softSegments = Math.Min((int)limits.MaxSegmentDescriptorCount, 4096) / 4;
        var segments = new List<SegmentDescriptor>();
        long pos = 0;
        byte listId = 1;

        ExtendedCopyParameterList Finish()
        {
            for (int i = 0; i < segments.Count; i++)
                segments[i] = segments[i] switch
                {
                    StreamToDiscardSegment d => d with { Cat = i < segments.Count - 1 },
                    StreamToBlockSegment b => b with { Cat = i < segments.Count - 1 },
                    var other => other,
                };
            var list = new ExtendedCopyParameterList(listId, targets.Cscds(), segments.ToArray()) { ListIdUsage = ListIdUsage.Hold, Priority = 1 };
            listId = (byte)(listId == 255 ? 1 : listId + 1);
            segments = [];
            return list;
        }

        foreach (var p in pieces)
        {
            if (p.ArchiveOffsetBytes < pos) throw new InvalidOperationException("restore pieces out of archive order");
            while (p.ArchiveOffsetBytes > pos)
            {
                long gap = p.ArchiveOffsetBytes - pos;
                long n = Math.Min(gap, 1L << 30);
                if (segments.Count >= softSegments)
                {
                    long toBoundary = (record - pos % record) % record;
                    if (toBoundary == 0) { yield return Finish(); continue; }
                    if (toBoundary < n) n = toBoundary;
                }
                segments.Add(new StreamToDiscardSegment(TapeCscd, record, (uint)n));
                pos += n;
            }
            long lba = p.SourceByteOffset / targets.BlockSizeBytes + targets.LbaShift;
            for (long left = p.LengthBytes / targets.BlockSizeBytes; left > 0;)
            {
                long n = Math.Min(left, ushort.MaxValue);
                if (segments.Count >= softSegments)
                {
                    // End the list at a record boundary: before this piece, or inside it where the boundary falls on a block.
                    long toBoundary = (record - pos % record) % record;
                    if (toBoundary == 0) yield return Finish();
                    else if (toBoundary % targets.BlockSizeBytes == 0 && toBoundary < n * targets.BlockSizeBytes)
                        n = toBoundary / targets.BlockSizeBytes;
                }
                segments.Add(new StreamToBlockSegment(TapeCscd, DeviceCscd, record, (ushort)n, checked((ulong)lba)));
                lba += n;
                left -= n;
                pos += n * targets.BlockSizeBytes;
            }
            if (segments.Count >= Math.Min((int)limits.MaxSegmentDescriptorCount, 4096) - 8)
                throw new InvalidOperationException("no record boundary found for a parameter list; the archive has no gap to split at");
        }
        if (segments.Count > 0) yield return Finish();
    }

    const ushort TapeCscd = 0, DeviceCscd = 1;
}

/// <summary>The devices of a restore: the tape (CSCD 0) and the target block device (CSCD 1).</summary>
public sealed record RestoreTargets(byte[] TapeNaa, byte[] DeviceNaa, int BlockSizeBytes, int RecordBytes, long LbaShift)
{
    public CscdDescriptor[] Cscds() =>
    [
        // PAD on the tape: the rest of the last record read (archive bytes after the last piece) is discarded.
        IdentificationCscdDescriptor.ForNaa(TapeNaa, PeripheralDeviceType.SequentialAccess, new StreamDeviceTypeParameters(true, false, 0)),
        IdentificationCscdDescriptor.ForNaa(DeviceNaa, PeripheralDeviceType.DirectAccessBlock, new BlockDeviceTypeParameters(false, BlockSizeBytes)),
    ];
}
