using FsCheck;
using FsCheck.Xunit;
using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;

namespace Offhost.Formats.Ntfs.Tests;

public sealed class StreamBuilderTests
{
    const int Cluster = 512;

    static (List<DataRun> Runs, long Clusters) RandomRuns(Random r, int count)
    {
        var runs = new List<DataRun>();
        long vcn = 0, lcn = 1;
        for (int i = 0; i < count; i++)
        {
            long len = 1 + r.Next(40);
            if (r.Next(3) == 0) runs.Add(new DataRun(vcn, len, -1));
            else
            {
                lcn += r.Next(2) == 0 ? 0 : 1 + r.Next(5);
                runs.Add(new DataRun(vcn, len, lcn));
                lcn += len;
            }
            vcn += len;
        }
        return (runs, vcn);
    }

    /// <summary>Extents cover [0, size) in order, and reading them reproduces the bytes the runlist describes.</summary>
    [Property(MaxTest = 500)]
    public void Plain_extents_reproduce_the_runlist(int seed, PositiveInt runCount, bool compressed)
    {
        var r = new Random(seed);
        var (runs, clusters) = RandomRuns(r, 1 + runCount.Get % 30);
        long size = Math.Max(0, clusters * Cluster - r.Next(Cluster * 2));
        long init = size == 0 ? 0 : r.NextInt64(0, size + 1);
        var piece = new DataAttributePiece
        {
            Name = "", LowestVcn = 0, HighestVcn = clusters - 1, Runs = runs, Flags = compressed ? (ushort)1 : (ushort)0,
            CompressionUnitLog2 = compressed ? 4 : 0, AllocatedSizeBytes = clusters * Cluster, DataSizeBytes = size, InitializedSizeBytes = init,
        };
        var device = new byte[(runs.Where(x => !x.IsSparse).Select(x => x.Lcn + x.LengthClusters).DefaultIfEmpty(1).Max() + 1) * Cluster];
        r.NextBytes(device);
        MapStream s;
        try
        {
            s = new StreamBuilder(0, Cluster, 512).Build([piece], 99);
        }
        catch (CorruptStructureException e)
        {
            // The only rejection random runs can trigger is a stream that needs more clusters than it has.
            Assert.Contains("needs", e.Message, StringComparison.Ordinal);
            return;
        }
        long at = 0;
        foreach (var x in s.Extents)
        {
            Assert.Equal(at, x.OffsetBytes);
            at = x.EndBytes;
        }
        Assert.Equal(size, at);
        if (compressed) return;

        var expected = new byte[size];
        foreach (var run in runs)
        {
            if (run.IsSparse) continue;
            long start = run.Vcn * Cluster;
            for (long b = 0; b < run.LengthClusters * Cluster && start + b < Math.Min(size, init); b++)
                expected[start + b] = device[run.Lcn * Cluster + b];
        }
        Assert.Equal(expected, MapVerifier.ReadStream(new MemoryBlockSource(device), s, 512));
    }

    [Fact]
    public void Huge_sparse_compressed_stream_maps_quickly_to_few_extents()
    {
        long clusters = 1L << 40;
        var piece = new DataAttributePiece
        {
            Name = "", LowestVcn = 0, HighestVcn = clusters + 15,
            Runs = [new DataRun(0, clusters, -1), new DataRun(clusters, 3, 10), new DataRun(clusters + 3, 13, -1)],
            Flags = 1, CompressionUnitLog2 = 4, AllocatedSizeBytes = (clusters + 16) * Cluster,
            DataSizeBytes = (clusters + 16) * Cluster, InitializedSizeBytes = (clusters + 16) * Cluster,
        };
        var s = new StreamBuilder(0, Cluster, 512).Build([piece], 1);
        Assert.Equal(2, s.Extents.Count);
        Assert.Equal(ExtentKind.Zero, s.Extents[0].Kind);
        Assert.Equal(ExtentKind.Compressed, s.Extents[1].Kind);
        Assert.Equal([new PhysicalRun(10, 3)], s.Extents[1].Runs);
    }

    [Fact]
    public void Runlist_reaching_absurd_vcns_is_rejected()
    {
        var piece = new DataAttributePiece
        {
            Name = "", LowestVcn = 0, HighestVcn = long.MaxValue / 2 - 1, Runs = [new DataRun(0, long.MaxValue / 2, -1)],
            DataSizeBytes = 10, AllocatedSizeBytes = 10, InitializedSizeBytes = 10,
        };
        Assert.Throws<CorruptStructureException>(() => new StreamBuilder(0, Cluster, 512).Build([piece], 1));
    }
}
