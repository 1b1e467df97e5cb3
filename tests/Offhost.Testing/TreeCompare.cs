using System.Text;
using Xunit;

namespace Offhost.Testing;

/// <summary>
/// Compares a restored tree with the source tree as a mount of the original file system shows it: every regular
/// file's bytes, symlink targets, user.* extended attributes (NTFS alternate data streams through ntfs-3g),
/// modification times to the nanosecond, and which names are hard links of one file.
/// </summary>
public static class TreeCompare
{
    public sealed record Options
    {
        public bool CompareModes { get; init; }
        /// <summary>Compare modification times of files (on by default).</summary>
        public bool CompareMtimes { get; init; } = true;
        public bool CompareOwners { get; init; }
        /// <summary>user.* xattrs (NTFS alternate data streams) larger than this are expected as separate files <c>PATH:NAME</c>.</summary>
        public int StreamsAsFilesAboveBytes { get; init; } = int.MaxValue;
        /// <summary>FIFOs and device nodes must be restored as such, with the same device number (and mode, owner, mtime
        /// as the options above say); sockets are never restored and are not compared.</summary>
        public bool CompareSpecialFiles { get; init; }
        /// <summary>Relative paths (with '/') to leave out, e.g. the mapper's own members.</summary>
        public Func<string, bool> Ignore { get; init; } = _ => false;
    }

    /// <summary>Asserts that every entry under <paramref name="source"/> is under <paramref name="restored"/> with the same content.</summary>
    public static int AssertSame(string source, string restored, Options? options = null)
    {
        options ??= new Options();
        int compared = 0;
        var inodeGroups = new Dictionary<(ulong Dev, ulong Ino), List<string>>();
        foreach (var path in Directory.EnumerateFileSystemEntries(source, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            string rel = Path.GetRelativePath(source, path).Replace('\\', '/');
            if (options.Ignore(rel)) continue;
            string other = Path.Combine(restored, rel);
            var info = new FileInfo(path);
            if (info.LinkTarget is string target)
            {
                Assert.True(new FileInfo(other).LinkTarget == target, $"{rel}: symlink target '{new FileInfo(other).LinkTarget}' != '{target}'");
                compared++;
                continue;
            }
            if (Directory.Exists(path))
            {
                Assert.True(Directory.Exists(other), $"{rel}: directory missing from the restore");
                CompareXattrs(path, other, rel, options);
                continue;
            }
            var kind = Stat(path);
            if (kind.Type != "regular file" && kind.Type != "regular empty file")
            {
                // fifos, devices: no data, but their type and device number; sockets: nothing.
                if (!options.CompareSpecialFiles || kind.Type == "socket") continue;
                string want = Tool.Run("stat", "-c", "%F %t:%T", path).Trim();
                var have = Tool.TryRun("stat", ["-c", "%F %t:%T", other]);
                Assert.True(have.ExitCode == 0 && have.Stdout.Trim() == want, $"{rel}: restored as '{have.Stdout.Trim()}{have.Stderr.Trim()}', not '{want}'");
                CompareMetadata(kind, Stat(other), rel, options);
                compared++;
                continue;
            }
            Assert.True(File.Exists(other), $"{rel}: missing from the restore");
            AssertSameBytes(path, other, rel);
            CompareXattrs(path, other, rel, options);
            CompareMetadata(kind, Stat(other), rel, options);
            if (kind.Links > 1)
            {
                if (!inodeGroups.TryGetValue((kind.Dev, kind.Ino), out var g)) inodeGroups[(kind.Dev, kind.Ino)] = g = [];
                g.Add(rel);
            }
            compared++;
        }
        foreach (var group in inodeGroups.Values.Where(g => g.Count > 1))
        {
            var inodes = group.Select(rel => Stat(Path.Combine(restored, rel)).Ino).Distinct().ToList();
            Assert.True(inodes.Count == 1, $"hard links {string.Join(", ", group)} were restored as {inodes.Count} separate files");
        }
        return compared;
    }

    static void CompareMetadata(StatInfo kind, StatInfo o, string rel, Options options)
    {
        if (options.CompareMtimes) Assert.True(kind.MtimeNs == o.MtimeNs, $"{rel}: mtime {o.MtimeNs} != {kind.MtimeNs}");
        if (options.CompareModes) Assert.True(kind.Mode == o.Mode, $"{rel}: mode {o.Mode} != {kind.Mode}");
        if (options.CompareOwners) Assert.True(kind.Owner == o.Owner, $"{rel}: owner {o.Owner} != {kind.Owner}");
    }

    static void AssertSameBytes(string a, string b, string rel)
    {
        using var fa = File.OpenRead(a);
        using var fb = File.OpenRead(b);
        Assert.True(fa.Length == fb.Length, $"{rel}: size {fb.Length} != {fa.Length}");
        var ba = new byte[1 << 20];
        var bb = new byte[1 << 20];
        long at = 0;
        while (true)
        {
            int n = fa.ReadAtLeast(ba, ba.Length, throwOnEndOfStream: false);
            int m = fb.ReadAtLeast(bb, n, throwOnEndOfStream: false);
            Assert.True(n == m, $"{rel}: short read");
            if (n == 0) return;
            if (!ba.AsSpan(0, n).SequenceEqual(bb.AsSpan(0, n)))
            {
                int i = 0;
                while (ba[i] == bb[i]) i++;
                Assert.Fail($"{rel}: differs at byte {at + i}");
            }
            at += n;
        }
    }

    static void CompareXattrs(string a, string b, string rel, Options options)
    {
        var xa = UserXattrs(a);
        var xb = UserXattrs(b);
        foreach (var (name, value) in xa.Where(x => x.Value.Length > options.StreamsAsFilesAboveBytes).ToList())
        {
            string streamFile = b + ":" + name["user.".Length..];
            Assert.True(File.Exists(streamFile), $"{rel}: stream {name} ({value.Length} bytes) is neither an xattr nor a file {Path.GetFileName(streamFile)}");
            Assert.True(value.AsSpan().SequenceEqual(File.ReadAllBytes(streamFile)), $"{rel}: stream {name} differs from {Path.GetFileName(streamFile)}");
            xa.Remove(name);
        }
        string Show(Dictionary<string, byte[]> x) => string.Join(", ", x.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={Convert.ToHexString(p.Value)[..Math.Min(32, 2 * p.Value.Length)]}"));
        Assert.True(xa.Count == xb.Count && xa.All(p => xb.TryGetValue(p.Key, out var v) && v.AsSpan().SequenceEqual(p.Value)),
            $"{rel}: user xattrs differ\nsource:   {Show(xa)}\nrestored: {Show(xb)}");
    }

    /// <summary>The user.* extended attributes of a file, not following symlinks.</summary>
    public static Dictionary<string, byte[]> UserXattrs(string path)
    {
        var r = Tool.TryRun("getfattr", ["--absolute-names", "-h", "-d", "-m", "^user\\.", "-e", "hex", path]);
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var line in r.Stdout.Split('\n').Where(l => l.StartsWith("user.", StringComparison.Ordinal)))
        {
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            string hex = line[(eq + 1)..].Trim();
            result[line[..eq]] = hex.StartsWith("0x", StringComparison.Ordinal) ? Convert.FromHexString(hex[2..]) : Encoding.UTF8.GetBytes(hex.Trim('"'));
        }
        return result;
    }

    public readonly record struct StatInfo(string Type, string MtimeNs, string Mode, string Owner, ulong Dev, ulong Ino, int Links);

    public static StatInfo Stat(string path)
    {
        var f = Tool.Run("stat", "-c", "%F|%.9Y|%a|%u:%g|%d|%i|%h", path).Trim().Split('|');
        return new StatInfo(f[0], f[1], f[2], f[3], ulong.Parse(f[4], System.Globalization.CultureInfo.InvariantCulture),
            ulong.Parse(f[5], System.Globalization.CultureInfo.InvariantCulture), int.Parse(f[6], System.Globalization.CultureInfo.InvariantCulture));
    }

}
