using System.Globalization;

namespace Offhost.Io.FileSystems;

/// <summary>A loop device and the file behind it, from /sys/block/loopN/loop/backing_file.</summary>
public sealed record LoopDevice(string DevicePath, uint Major, uint Minor, string BackingFile)
{
    /// <summary>All attached loop devices.</summary>
    public static IReadOnlyList<LoopDevice> All()
    {
        var list = new List<LoopDevice>();
        if (!Directory.Exists("/sys/block")) return list;
        foreach (string dir in Directory.EnumerateDirectories("/sys/block", "loop*"))
        {
            string backing = Path.Combine(dir, "loop", "backing_file");
            string dev = Path.Combine(dir, "dev");
            try
            {
                if (!File.Exists(backing)) continue;
                string[] mm = File.ReadAllText(dev).Trim().Split(':');
                list.Add(new LoopDevice("/dev/" + Path.GetFileName(dir),
                    uint.Parse(mm[0], CultureInfo.InvariantCulture), uint.Parse(mm[1], CultureInfo.InvariantCulture),
                    File.ReadAllText(backing).TrimEnd('\n')));
            }
            catch (IOException) { }
            catch (FormatException) { }
        }
        return list;
    }

    /// <summary>Loop devices whose backing file is <paramref name="file"/> (compared by device and size-independent identity: full path).</summary>
    public static IReadOnlyList<LoopDevice> BackedBy(string file)
    {
        string full = Path.GetFullPath(file);
        return All().Where(l => l.BackingFile == full).ToList();
    }

    /// <summary>The loop device with this major:minor, if any.</summary>
    public static LoopDevice? Find(uint major, uint minor) => All().FirstOrDefault(l => l.Major == major && l.Minor == minor);
}
