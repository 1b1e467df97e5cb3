using System.Globalization;
using System.Text;
using Offhost.Core.Mapping;
using Offhost.Testing;

namespace Offhost.Formats.Ext4.Tests;

/// <summary>What the kernel says about every file of a mounted tree: GNU stat for metadata, getfattr for xattrs.</summary>
internal sealed class MountTruth
{
    public sealed record Node(string Path, string Type, long Size, uint Mode, uint Uid, uint Gid,
        MapTime? Birth, MapTime Accessed, MapTime Modified, MapTime Changed, int Links, ulong Inode)
    {
        /// <summary>For device nodes, the device number stat reports (%t, %T); null otherwise.</summary>
        public DeviceNumber? Rdev { get; init; }
    }

    public Dictionary<string, Node> Nodes { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, Dictionary<string, string>> Xattrs { get; } = new(StringComparer.Ordinal);
    public string Root { get; }

    public MountTruth(string mountPoint, bool withXattrs)
    {
        Root = mountPoint;
        string output = Tool.Bash($"cd '{mountPoint}' && find . -print0 | xargs -0 stat --printf '%n\\t%f\\t%s\\t%u\\t%g\\t%.9W\\t%.9X\\t%.9Y\\t%.9Z\\t%h\\t%i\\t%t\\t%T\\n'");
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split('\t');
            string path = f[0] == "." ? "/" : f[0][1..];
            uint mode = uint.Parse(f[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            string type = (mode & 0xF000) switch { 0x4000 => "dir", 0xA000 => "symlink", 0x8000 => "file", _ => "special" };
            var birth = ParseTime(f[5]);
            Nodes[path] = new Node(path, type, long.Parse(f[2], CultureInfo.InvariantCulture), mode,
                uint.Parse(f[3], CultureInfo.InvariantCulture), uint.Parse(f[4], CultureInfo.InvariantCulture),
                birth.UnixSeconds == 0 && birth.Nanoseconds == 0 ? null : birth, ParseTime(f[6]), ParseTime(f[7]), ParseTime(f[8]),
                int.Parse(f[9], CultureInfo.InvariantCulture), ulong.Parse(f[10], CultureInfo.InvariantCulture))
            {
                Rdev = (mode & 0xF000) is 0x2000 or 0x6000
                    ? new DeviceNumber(uint.Parse(f[11], NumberStyles.HexNumber, CultureInfo.InvariantCulture), uint.Parse(f[12], NumberStyles.HexNumber, CultureInfo.InvariantCulture))
                    : null,
            };
        }
        if (withXattrs) ReadXattrs(mountPoint);
    }

    static MapTime ParseTime(string s)
    {
        if (s is "-" or "0") return new MapTime(0, 0);
        int dot = s.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0) return new MapTime(long.Parse(s, CultureInfo.InvariantCulture), 0);
        return new MapTime(long.Parse(s[..dot], CultureInfo.InvariantCulture), int.Parse(s[(dot + 1)..].PadRight(9, '0')[..9], CultureInfo.InvariantCulture));
    }

    void ReadXattrs(string mountPoint)
    {
        var r = Tool.TryRun("getfattr", ["-R", "-P", "-d", "-m", "-", "-e", "hex", "."], workingDirectory: mountPoint);
        string? current = null;
        foreach (var line in r.Stdout.Split('\n'))
        {
            if (line.StartsWith("# file: ", StringComparison.Ordinal))
            {
                string p = line[8..];
                current = p == "." ? "/" : p.StartsWith("./", StringComparison.Ordinal) ? p[1..] : "/" + p;
                Xattrs[current] = new Dictionary<string, string>(StringComparer.Ordinal);
            }
            else if (current is not null && line.Contains('=', StringComparison.Ordinal))
            {
                int eq = line.IndexOf('=', StringComparison.Ordinal);
                string v = line[(eq + 1)..];
                Xattrs[current][line[..eq]] = v.StartsWith("0x", StringComparison.Ordinal) ? v[2..].ToLowerInvariant() : "";
            }
        }
    }

    public static string Hex(ReadOnlyMemory<byte> b) => Convert.ToHexStringLower(b.Span);

    public static string Utf8(byte[] b) => Encoding.UTF8.GetString(b);
}
