using System.Globalization;
using Offhost.Io.FileSystems;

namespace Offhost.Agent.Configuration;

/// <summary>What the agent host knows about the device behind a snapshot beyond its file systems: the WWN (NAA) from
/// sysfs, the /dev/disk/by-id names that point at it, and its path. Empty for image files.</summary>
public sealed record DeviceNames(string Wwn, IReadOnlyList<string> ById, string AgentPath)
{
    public static DeviceNames Of(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        FileStatus st;
        try { st = FileStatus.Of(path); }
        catch (FileSystemCallException) { return new DeviceNames("", [], path); }
        if (!st.IsBlockDevice) return new DeviceNames("", [], path);

        string sys = string.Create(CultureInfo.InvariantCulture, $"/sys/dev/block/{st.RdevMajor}:{st.RdevMinor}");
        string wwn = FirstLine(Path.Combine(sys, "wwid")) ?? FirstLine(Path.Combine(sys, "device", "wwid")) ?? "";
        var byId = new List<string>();
        if (Directory.Exists("/dev/disk/by-id"))
        {
            foreach (var link in Directory.EnumerateFileSystemEntries("/dev/disk/by-id"))
            {
                try
                {
                    var t = FileStatus.Of(link);
                    if (t.IsBlockDevice && t.RdevMajor == st.RdevMajor && t.RdevMinor == st.RdevMinor) byId.Add(link);
                }
                catch (FileSystemCallException) { }
            }
        }
        byId.Sort(StringComparer.Ordinal);
        return new DeviceNames(wwn, byId, path);
    }

    static string? FirstLine(string file)
    {
        try
        {
            if (!File.Exists(file)) return null;
            string s = File.ReadAllText(file).Trim();
            return s.Length == 0 ? null : s;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
