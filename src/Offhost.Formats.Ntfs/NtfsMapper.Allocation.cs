using Offhost.Core.Errors;
using Offhost.Core.Mapping;

namespace Offhost.Formats.Ntfs;

/// <summary>The allocation map of an NTFS volume, from the <c>$Bitmap</c> metadata file (MFT record 6): one bit per cluster.</summary>
internal sealed partial class NtfsMapper : IAllocationMap
{
    const ulong BitmapRecord = 6;

    public IEnumerable<(long StartBytes, long LengthBytes)> AllocatedRanges(CancellationToken cancellationToken)
    {
        var runs = new List<DataRun>();
        long bitmapBytes = BitmapRuns(runs);
        long clusterBytes = boot.ClusterSizeBytes;
        long totalClusters = boot.TotalClusters;
        if (bitmapBytes * 8 < totalClusters)
            CorruptStructure.Throw("$Bitmap", RecordDeviceOffset(BitmapRecord), $"{bitmapBytes} bytes cannot cover {totalClusters} clusters");

        var chunk = new byte[Math.Min(ChunkBytes, bitmapBytes)];
        long runStart = -1;
        for (long at = 0; at * 8 < totalClusters; at += chunk.Length)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(chunk.Length, bitmapBytes - at);
            MftStream.ReadRuns(volume, runs, boot.ClusterSizeBytes, at, chunk.AsSpan(0, n), "$Bitmap");
            for (int i = 0; i < n; i++)
            {
                byte b = chunk[i];
                if (b == 0xFF && runStart >= 0) continue;
                if (b == 0 && runStart < 0) continue;
                for (int bit = 0; bit < 8; bit++)
                {
                    long cluster = (at + i) * 8 + bit;
                    if (cluster >= totalClusters) break;
                    bool used = (b & (1 << bit)) != 0;
                    if (used && runStart < 0) runStart = cluster;
                    else if (!used && runStart >= 0)
                    {
                        yield return (volume.StartBytes + runStart * clusterBytes, (cluster - runStart) * clusterBytes);
                        runStart = -1;
                    }
                }
            }
        }
        if (runStart >= 0) yield return (volume.StartBytes + runStart * clusterBytes, (totalClusters - runStart) * clusterBytes);
    }

    /// <summary>Decodes the runlist of $Bitmap's unnamed $DATA; returns its size in bytes.</summary>
    long BitmapRuns(List<DataRun> runs)
    {
        var record = new byte[mft.RecordBytes];
        long device = RecordDeviceOffset(BitmapRecord);
        mft.Read(mft.RecordStreamOffset(BitmapRecord), record);
        if (!FileRecord.ApplyFixups(record, BitmapRecord, device))
            CorruptStructure.Throw("$Bitmap (MFT record 6)", device, "not a FILE record");
        foreach (var a in FileRecord.Attributes(record, BitmapRecord, device))
        {
            if (a.Type != AttributeType.Data || a.IsNamed) continue;
            if (!a.IsNonResident) CorruptStructure.Throw("$Bitmap (MFT record 6)", a.DeviceOffset, "$DATA is resident");
            if (a.LowestVcn != 0) CorruptStructure.Throw("$Bitmap (MFT record 6)", a.DeviceOffset, "$DATA does not start at VCN 0 (an attribute list is not supported here)");
            Runlist.Decode(a.MappingPairs, 0, boot.TotalClusters, a.MappingPairsDeviceOffset, runs);
            return a.DataSizeBytes;
        }
        return CorruptStructure.Throw<long>("$Bitmap (MFT record 6)", device, "has no unnamed $DATA attribute");
    }
}
