using System.Globalization;
using System.Text.RegularExpressions;
using Offhost.Core.Mapping;
using Offhost.Testing;

namespace Offhost.Formats.Ext4.Tests;

/// <summary>Reads a file's block map from debugfs (<c>ex</c> for extent files, <c>stat</c> for block-mapped ones) and
/// turns it into the extents the map should report, so the two can be compared exactly.</summary>
internal static partial class DebugfsExtents
{
    public readonly record struct Leaf(long Logical, long Physical, long Length, bool Unwritten);

    [GeneratedRegex(@"^\s*(\d+)/\s*(\d+)\s+\d+/\s*\d+\s+(\d+)\s*-\s*(\d+)\s+(\d+)(?:\s*-\s*(\d+))?\s+(\d+)\s*(\S*)\s*$")]
    private static partial Regex ExLine();

    /// <summary>Leaf extents from <c>debugfs -R "ex PATH"</c> and the tree depth it reports.</summary>
    public static (List<Leaf> Leaves, int Depth) Extents(string image, string path)
    {
        var leaves = new List<Leaf>();
        int depth = 0;
        foreach (var line in Ext4VolumeBuilder.Debugfs(image, $"ex \"{path}\"").Split('\n'))
        {
            var m = ExLine().Match(line);
            if (!m.Success) continue;
            int level = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            depth = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            if (level != depth) continue;
            leaves.Add(new Leaf(long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups[5].Value, CultureInfo.InvariantCulture),
                long.Parse(m.Groups[7].Value, CultureInfo.InvariantCulture), m.Groups[8].Value.Contains("Uninit", StringComparison.Ordinal)));
        }
        return (leaves, depth);
    }

    [GeneratedRegex(@"\((\d+)(?:-(\d+))?\):(\d+)(?:-(\d+))?")]
    private static partial Regex StatRun();

    /// <summary>Data block runs from the BLOCKS section of <c>debugfs -R "stat PATH"</c> (indirect blocks excluded).</summary>
    public static List<Leaf> BlockMap(string image, string path)
    {
        string stat = Ext4VolumeBuilder.Debugfs(image, $"stat \"{path}\"");
        int at = stat.IndexOf("BLOCKS:", StringComparison.Ordinal);
        var leaves = new List<Leaf>();
        if (at < 0) return leaves;
        foreach (Match m in StatRun().Matches(stat[at..]))
        {
            long l0 = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            long l1 = m.Groups[2].Success ? long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : l0;
            long p0 = long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
            leaves.Add(new Leaf(l0, p0, l1 - l0 + 1, false));
        }
        return leaves;
    }

    /// <summary>The extents a correct map reports for these leaves: clipped to the size, holes and unwritten ranges as zeros, neighbours merged.</summary>
    public static List<MapExtent> Expected(IEnumerable<Leaf> leaves, long sizeBytes, int fsBlock, int deviceBlock, long partitionStartBytes)
    {
        var list = new List<MapExtent>();
        long cursor = 0;
        void Add(MapExtent x)
        {
            if (list.Count > 0)
            {
                var last = list[^1];
                if (last.Kind == ExtentKind.Zero && x.Kind == ExtentKind.Zero)
                { list[^1] = MapExtent.Zero(last.OffsetBytes, last.LengthBytes + x.LengthBytes); return; }
                if (last.Kind == ExtentKind.Data && x.Kind == ExtentKind.Data && last.LengthBytes % deviceBlock == 0 && last.Lba + last.LengthBytes / deviceBlock == x.Lba)
                { list[^1] = MapExtent.Data(last.OffsetBytes, last.LengthBytes + x.LengthBytes, last.Lba, deviceBlock); return; }
            }
            list.Add(x);
        }
        foreach (var l in leaves.OrderBy(l => l.Logical))
        {
            long start = l.Logical * fsBlock;
            if (start >= sizeBytes) break;
            long end = Math.Min((l.Logical + l.Length) * fsBlock, sizeBytes);
            if (start > cursor) Add(MapExtent.Zero(cursor, start - cursor));
            Add(l.Unwritten ? MapExtent.Zero(start, end - start) : MapExtent.Data(start, end - start, (partitionStartBytes + l.Physical * fsBlock) / deviceBlock, deviceBlock));
            cursor = end;
        }
        if (cursor < sizeBytes) Add(MapExtent.Zero(cursor, sizeBytes - cursor));
        return list;
    }
}
