using Offhost.Core.Devices;
using Offhost.Core.Errors;

namespace Offhost.Formats.Ntfs;

/// <summary>
/// The $MFT's unnamed $DATA, read through its runlist. Offsets are bytes within the stream; device offsets are absolute
/// (partition offset applied). Not thread-safe (counts bytes read).
/// </summary>
internal sealed class MftStream(SliceBlockSource volume, DataRun[] runs, int clusterBytes, int recordBytes, long lengthBytes)
{
    public int RecordBytes { get; } = recordBytes;
    public long LengthBytes { get; } = lengthBytes;
    public long RecordCount => LengthBytes / RecordBytes;
    public long BytesRead { get; private set; }
    public IReadOnlyList<DataRun> Runs => runs;

    public long RecordStreamOffset(ulong record) => (long)record * RecordBytes;

    /// <summary>Absolute device offset of byte <paramref name="streamOffset"/> of the $MFT; -1 if no run holds it.</summary>
    public long DeviceOffsetOf(long streamOffset)
    {
        long vcn = streamOffset / clusterBytes;
        int i = FindRun(vcn);
        if (i < 0 || runs[i].IsSparse) return -1;
        return volume.StartBytes + (runs[i].Lcn + (vcn - runs[i].Vcn)) * clusterBytes + streamOffset % clusterBytes;
    }

    public void Read(long streamOffset, Span<byte> dest)
    {
        ReadRuns(volume, runs, clusterBytes, streamOffset, dest, "$MFT");
        BytesRead += dest.Length;
    }

    int FindRun(long vcn)
    {
        int lo = 0, hi = runs.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (vcn < runs[mid].Vcn) hi = mid - 1;
            else if (vcn >= runs[mid].EndVcn) lo = mid + 1;
            else return mid;
        }
        return -1;
    }

    /// <summary>Reads bytes of a non-resident stream through its runs (sorted by VCN); sparse runs read as zeros.</summary>
    public static void ReadRuns(SliceBlockSource volume, IReadOnlyList<DataRun> runs, int clusterBytes, long streamOffset, Span<byte> dest, string what)
    {
        int i = 0;
        while (dest.Length > 0)
        {
            long vcn = streamOffset / clusterBytes;
            while (i < runs.Count && runs[i].EndVcn <= vcn) i++;
            if (i >= runs.Count || runs[i].Vcn > vcn)
                CorruptStructure.Throw(what, -1, $"no run maps stream offset {streamOffset}");
            var r = runs[i];
            long inRun = (r.EndVcn - vcn) * clusterBytes - streamOffset % clusterBytes;
            int n = (int)Math.Min(dest.Length, inRun);
            if (r.IsSparse) dest[..n].Clear();
            else volume.ReadAt((r.Lcn + vcn - r.Vcn) * clusterBytes + streamOffset % clusterBytes, dest[..n]);
            dest = dest[n..];
            streamOffset += n;
        }
    }
}
