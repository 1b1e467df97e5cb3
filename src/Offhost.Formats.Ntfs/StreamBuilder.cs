using System.Runtime.CompilerServices;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;

namespace Offhost.Formats.Ntfs;

/// <summary>
/// Turns the $DATA pieces of one stream into a <see cref="MapStream"/>: resident bytes, or extents covering
/// [0, size) exactly (see docs/formats/ntfs-notes.md for what compressed extents describe). Pure.
/// </summary>
internal sealed class StreamBuilder(long partitionOffsetBytes, int clusterBytes, int blockBytes)
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public MapStream Build(List<DataAttributePiece> pieces, ulong recordNumber)
    {
        var head = pieces[0];
        if (pieces.Count == 1 && head.ResidentValue is byte[] value)
            return new MapStream(head.Name, value.Length) { ResidentData = value, InitializedBytes = value.Length };
        foreach (var p in pieces)
            if (p.ResidentValue is not null)
                CorruptStructure.Throw(FileRecord.Name(recordNumber), p.DeviceOffset, $"stream \"{p.Name}\" has both resident and non-resident $DATA records");

        pieces.Sort((a, b) => a.LowestVcn.CompareTo(b.LowestVcn));
        head = pieces[0];
        if (head.LowestVcn != 0)
            CorruptStructure.Throw(FileRecord.Name(recordNumber), head.DeviceOffset, $"stream \"{head.Name}\" has no $DATA record starting at VCN 0");

        var runs = pieces.Count == 1 ? head.Runs : [];
        long vcn = 0;
        foreach (var p in pieces)
        {
            if (p.LowestVcn != vcn)
                CorruptStructure.Throw(FileRecord.Name(recordNumber), p.DeviceOffset, $"$DATA piece starts at VCN {p.LowestVcn}, expected {vcn} (missing or overlapping piece)");
            long end = p.Runs.Count > 0 ? p.Runs[^1].EndVcn : p.LowestVcn;
            if (end != p.HighestVcn + 1 && !(p.Runs.Count == 0 && p.HighestVcn < p.LowestVcn))
                CorruptStructure.Throw(FileRecord.Name(recordNumber), p.DeviceOffset, $"runlist ends at VCN {end}, the attribute says {p.HighestVcn + 1}");
            if (pieces.Count > 1) runs.AddRange(p.Runs);
            vcn = end;
        }

        // Byte offsets of every run must fit in a long (a damaged runlist can claim VCNs near 2^63).
        if (vcn > long.MaxValue / clusterBytes - (1L << AttributeRecord.MaxCompressionUnitLog2))
            CorruptStructure.Throw(FileRecord.Name(recordNumber), head.DeviceOffset, $"runlist reaches VCN {vcn}, beyond any possible stream size");
        long size = head.DataSizeBytes, init = head.InitializedSizeBytes;
        long neededClusters = (size + clusterBytes - 1) / clusterBytes;
        if (vcn < neededClusters)
            CorruptStructure.Throw(FileRecord.Name(recordNumber), head.DeviceOffset, $"runlist covers {vcn} clusters, the stream of {size} bytes needs {neededClusters}");
        CheckOverlap(runs, recordNumber, head.DeviceOffset);

        bool compressed = (head.Flags & AttributeRecord.FlagCompressionMask) != 0 && head.CompressionUnitLog2 > 0;
        var stream = new MapStream(head.Name, size)
        {
            InitializedBytes = init,
            Compressed = compressed,
            Encrypted = (head.Flags & AttributeRecord.FlagEncrypted) != 0,
            Sparse = (head.Flags & AttributeRecord.FlagSparse) != 0,
            CompressionUnitBytes = compressed ? clusterBytes << head.CompressionUnitLog2 : 0,
        };
        var extents = new List<MapExtent>(Math.Min(runs.Count + 1, 1024));
        if (compressed) BuildCompressed(runs, size, init, 1 << head.CompressionUnitLog2, extents);
        else BuildPlain(runs, size, init, extents);
        return stream with { Extents = extents };
    }

    static void CheckOverlap(List<DataRun> runs, ulong recordNumber, long deviceOffset)
    {
        int allocated = 0;
        foreach (var r in runs) if (!r.IsSparse) allocated++;
        if (allocated < 2) return;
        var sorted = new DataRun[allocated];
        int i = 0;
        foreach (var r in runs) if (!r.IsSparse) sorted[i++] = r;
        Array.Sort(sorted, (a, b) => a.Lcn.CompareTo(b.Lcn));
        for (i = 1; i < sorted.Length; i++)
            if (sorted[i].Lcn < sorted[i - 1].Lcn + sorted[i - 1].LengthClusters)
                CorruptStructure.Throw(FileRecord.Name(recordNumber), deviceOffset,
                    $"runlist runs overlap: LCN {sorted[i - 1].Lcn}+{sorted[i - 1].LengthClusters} (VCN {sorted[i - 1].Vcn}) and LCN {sorted[i].Lcn}+{sorted[i].LengthClusters} (VCN {sorted[i].Vcn})");
    }

    long DeviceBytes(long lcn) => partitionOffsetBytes + lcn * clusterBytes;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void BuildPlain(List<DataRun> runs, long size, long init, List<MapExtent> extents)
    {
        foreach (var r in runs)
        {
            long start = r.Vcn * clusterBytes;
            if (start >= size) break;
            long end = Math.Min(size, r.EndVcn * clusterBytes);
            if (r.IsSparse)
            {
                AddZero(extents, start, end - start);
                continue;
            }
            long dataEnd = Math.Min(end, Math.Max(start, init));
            if (dataEnd > start) AddData(extents, start, dataEnd - start, DeviceBytes(r.Lcn));
            if (end > dataEnd) AddZero(extents, dataEnd, end - dataEnd);
        }
    }

    void BuildCompressed(List<DataRun> runs, long size, long init, int unitClusters, List<MapExtent> extents)
    {
        long unitBytes = (long)unitClusters * clusterBytes;
        var pieces = new List<(long Lcn, long Clusters)>(4);
        int ri = 0;
        for (long unitStart = 0; unitStart < size; unitStart += unitBytes)
        {
            long length = Math.Min(unitBytes, size - unitStart);
            long vcnStart = unitStart / clusterBytes, vcnEnd = vcnStart + unitClusters;
            pieces.Clear();
            long allocated = 0;
            while (ri < runs.Count && runs[ri].EndVcn <= vcnStart) ri++;
            for (int j = ri; j < runs.Count && runs[j].Vcn < vcnEnd; j++)
            {
                var r = runs[j];
                if (r.IsSparse) continue;
                long from = Math.Max(r.Vcn, vcnStart), to = Math.Min(r.EndVcn, vcnEnd);
                long lcn = r.Lcn + (from - r.Vcn);
                if (pieces.Count > 0 && pieces[^1].Lcn + pieces[^1].Clusters == lcn)
                    pieces[^1] = (pieces[^1].Lcn, pieces[^1].Clusters + to - from);
                else
                    pieces.Add((lcn, to - from));
                allocated += to - from;
            }

            if (allocated == 0 || unitStart >= init)
            {
                AddZero(extents, unitStart, length);
                // Jump over a long sparse stretch in one step (a damaged runlist can describe exabytes of holes).
                long nextVcn = NextAllocatedVcn(runs, ri, vcnEnd);
                long sizeClusters = (size + clusterBytes - 1) / clusterBytes;
                long nextUnitStart = unitStart >= init || nextVcn >= sizeClusters ? size : nextVcn / unitClusters * unitClusters * clusterBytes;
                if (nextUnitStart > unitStart + unitBytes)
                {
                    AddZero(extents, unitStart + length, nextUnitStart - (unitStart + length));
                    unitStart = nextUnitStart - unitBytes;
                }
            }
            else if (allocated >= unitClusters)
            {
                // Stored uncompressed: plain data, cut at the initialized size.
                long offset = unitStart;
                long dataEnd = Math.Min(unitStart + length, init);
                foreach (var (lcn, clusters) in pieces)
                {
                    if (offset >= dataEnd) break;
                    long n = Math.Min(clusters * clusterBytes, dataEnd - offset);
                    extents.Add(MapExtent.Data(offset, n, DeviceBytes(lcn) / blockBytes, blockBytes));
                    offset += n;
                }
                if (unitStart + length > offset) AddZero(extents, offset, unitStart + length - offset);
            }
            else
            {
                var physical = new PhysicalRun[pieces.Count];
                for (int k = 0; k < pieces.Count; k++)
                    physical[k] = new PhysicalRun(DeviceBytes(pieces[k].Lcn) / blockBytes, pieces[k].Clusters * clusterBytes / blockBytes);
                extents.Add(new MapExtent(unitStart, length, ExtentKind.Compressed, physical[0].Lba, allocated * clusterBytes / blockBytes) { Runs = physical });
            }
        }
    }

    static long NextAllocatedVcn(List<DataRun> runs, int from, long vcn)
    {
        for (int j = from; j < runs.Count; j++)
            if (!runs[j].IsSparse && runs[j].EndVcn > vcn) return Math.Max(vcn, runs[j].Vcn);
        return long.MaxValue;
    }

    static void AddZero(List<MapExtent> extents, long offset, long length)
    {
        if (length <= 0) return;
        if (extents.Count > 0 && extents[^1].Kind == ExtentKind.Zero && extents[^1].EndBytes == offset)
        {
            var last = extents[^1];
            extents[^1] = MapExtent.Zero(last.OffsetBytes, last.LengthBytes + length);
            return;
        }
        extents.Add(MapExtent.Zero(offset, length));
    }

    void AddData(List<MapExtent> extents, long offset, long length, long deviceBytes)
    {
        if (extents.Count > 0 && extents[^1].Kind == ExtentKind.Data && extents[^1].EndBytes == offset)
        {
            var last = extents[^1];
            // Merge only whole-block extents that end exactly where this one starts on the device.
            if (last.LengthBytes % blockBytes == 0 && (last.Lba + last.Blocks) * blockBytes == deviceBytes)
            {
                extents[^1] = MapExtent.Data(last.OffsetBytes, last.LengthBytes + length, last.Lba, blockBytes);
                return;
            }
        }
        extents.Add(MapExtent.Data(offset, length, deviceBytes / blockBytes, blockBytes));
    }
}
