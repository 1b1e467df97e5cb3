using System.Globalization;
using System.Text;

namespace Offhost.Io.FileSystems;

/// <summary>One line of /proc/self/mountinfo (proc(5)): where a file system is mounted and what device it is on.</summary>
public sealed record MountInfo(int MountId, uint Major, uint Minor, string Root, string MountPoint, string Options,
    string FileSystemType, string Source, string SuperOptions)
{
    public bool IsReadOnly => Options.Split(',').Contains("ro");

    /// <summary>Parses mountinfo text; malformed lines are skipped (the kernel writes the file, but be strict about
    /// what is used: a line without the " - " separator or a bad major:minor is ignored).</summary>
    public static IReadOnlyList<MountInfo> Parse(string text)
    {
        var list = new List<MountInfo>();
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] f = line.Split(' ');
            if (f.Length < 10) continue;
            int sep = Array.IndexOf(f, "-", 6);
            if (sep < 0 || sep + 2 >= f.Length) continue;
            string[] mm = f[2].Split(':');
            if (mm.Length != 2
                || !int.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out int id)
                || !uint.TryParse(mm[0], NumberStyles.None, CultureInfo.InvariantCulture, out uint major)
                || !uint.TryParse(mm[1], NumberStyles.None, CultureInfo.InvariantCulture, out uint minor)) continue;
            list.Add(new MountInfo(id, major, minor, Unescape(f[3]), Unescape(f[4]), f[5], f[sep + 1], Unescape(f[sep + 2]),
                sep + 3 < f.Length ? f[sep + 3] : ""));
        }
        return list;
    }

    public static IReadOnlyList<MountInfo> Current() => Parse(File.ReadAllText("/proc/self/mountinfo"));

    /// <summary>The mount that holds <paramref name="path"/>: the last-mounted entry whose mount point is the longest
    /// prefix of the path's full name (symlinks resolved).</summary>
    public static MountInfo? ContainingMount(string path, IReadOnlyList<MountInfo>? mounts = null)
    {
        mounts ??= Current();
        string full = ResolveLinks(Path.GetFullPath(path));
        MountInfo? best = null;
        foreach (var m in mounts)
        {
            string mp = m.MountPoint;
            bool under = full == mp || mp == "/" || full.StartsWith(mp + "/", StringComparison.Ordinal);
            if (under && (best is null || mp.Length >= best.MountPoint.Length)) best = m;
        }
        return best;
    }

    /// <summary>Mounts of the block device major:minor (a device may be mounted at several places).</summary>
    public static IReadOnlyList<MountInfo> MountsOf(uint major, uint minor, IReadOnlyList<MountInfo>? mounts = null) =>
        (mounts ?? Current()).Where(m => m.Major == major && m.Minor == minor).ToList();

    static string ResolveLinks(string full)
    {
        try
        {
            var info = new FileInfo(full);
            var target = info.ResolveLinkTarget(returnFinalTarget: true);
            return target?.FullName ?? full;
        }
        catch (IOException) { return full; }
    }

    // mountinfo escapes space, tab, newline and backslash as \ooo octal.
    static string Unescape(string s)
    {
        if (!s.Contains('\\', StringComparison.Ordinal)) return s;
        var bytes = new List<byte>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 3 < s.Length && IsOctal(s[i + 1]) && IsOctal(s[i + 2]) && IsOctal(s[i + 3]))
            {
                bytes.Add((byte)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
                i += 3;
            }
            else bytes.AddRange(Encoding.UTF8.GetBytes(s[i].ToString()));
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    static bool IsOctal(char c) => c is >= '0' and <= '7';
}
