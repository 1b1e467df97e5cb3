using System.Globalization;

namespace Offhost.Io.FileSystems;

/// <summary>
/// The write counters of a block device from sysfs <c>stat</c> (Documentation/block/stat.rst): field 5 writes
/// completed, field 7 sectors written (512-byte units whatever the device's sector size).
/// </summary>
public readonly record struct BlockDeviceStat(long WritesCompleted, long SectorsWritten)
{
    /// <summary>Parses the text of a sysfs stat file; null when it has fewer than 7 numeric fields.</summary>
    public static BlockDeviceStat? Parse(string text)
    {
        string[] f = text.Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
        if (f.Length < 7) return null;
        if (!long.TryParse(f[4], NumberStyles.None, CultureInfo.InvariantCulture, out long writes)) return null;
        if (!long.TryParse(f[6], NumberStyles.None, CultureInfo.InvariantCulture, out long sectors)) return null;
        return new BlockDeviceStat(writes, sectors);
    }

    /// <summary>The sysfs stat file of block device major:minor (partitions included): /sys/dev/block/M:m/stat.</summary>
    public static string SysfsPath(uint major, uint minor) =>
        string.Create(CultureInfo.InvariantCulture, $"/sys/dev/block/{major}:{minor}/stat");

    public static BlockDeviceStat Read(string sysfsStatPath) =>
        Parse(File.ReadAllText(sysfsStatPath))
        ?? throw new InvalidDataException($"{sysfsStatPath}: not a block device stat file");
}
