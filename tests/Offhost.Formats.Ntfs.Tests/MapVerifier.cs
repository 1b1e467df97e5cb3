using System.Globalization;
using System.Text;
using Offhost.Core.Devices;
using Offhost.Core.Mapping;
using Offhost.Formats.Ntfs;
using Offhost.Io.Block;
using Offhost.Testing;

namespace Offhost.Formats.Ntfs.Tests;

/// <summary>Maps an image and compares every entry with what ntfs-3g shows through a read-only FUSE mount.</summary>
public static class MapVerifier
{
    public sealed record Mapped(VolumeInfo Volume, List<MapEntry> Entries, MapStatistics Statistics, int AttributeListsSeen, int MftRuns, int SplitStreams);

    public static Mapped Map(string imagePath)
    {
        using var source = new FileBlockSource(imagePath);
        var slice = new SliceBlockSource(source, 0, source.LengthBytes);
        var mapper = NtfsVolume.OpenMapper(slice, null);
        var entries = mapper.Entries(CancellationToken.None).ToList();
        var internals = (NtfsMapper)mapper;
        return new Mapped(mapper.Volume, entries, mapper.Statistics, internals.AttributeListsSeen, internals.MftRuns.Count, internals.SplitStreamsSeen);
    }

    /// <summary>Reads a stream's bytes from the device exactly as the map describes them.</summary>
    public static byte[] ReadStream(IBlockSource device, MapStream s, int blockBytes)
    {
        if (s.ResidentData is ReadOnlyMemory<byte> resident)
        {
            Assert.Equal(s.SizeBytes, resident.Length);
            return resident.ToArray();
        }
        var bytes = new byte[checked((int)s.SizeBytes)];
        long expected = 0;
        foreach (var x in s.Extents)
        {
            Assert.Equal(expected, x.OffsetBytes);
            Assert.True(x.LengthBytes > 0, $"empty extent at {x.OffsetBytes}");
            expected = x.EndBytes;
            var dest = bytes.AsSpan((int)x.OffsetBytes, (int)x.LengthBytes);
            switch (x.Kind)
            {
                case ExtentKind.Data:
                    Assert.Equal((x.LengthBytes + blockBytes - 1) / blockBytes, x.Blocks);
                    device.ReadAt(x.Lba * blockBytes, dest);
                    break;
                case ExtentKind.Zero:
                    break;
                case ExtentKind.Compressed:
                    var raw = new byte[x.Runs.Sum(r => r.Blocks) * blockBytes];
                    int at = 0;
                    foreach (var r in x.Runs)
                    {
                        device.ReadAt(r.Lba * blockBytes, raw.AsSpan(at, (int)(r.Blocks * blockBytes)));
                        at += (int)(r.Blocks * blockBytes);
                    }
                    Lznt1.Decompress(raw, dest);
                    break;
            }
        }
        Assert.Equal(s.SizeBytes, expected);
        return bytes;
    }

    public sealed record Stat(string Path, char Type, long Size, ulong Inode, int Links, MapTime Modified, MapTime Accessed, MapTime Changed, string LinkTarget);

    /// <summary>One find(1) walk of the mount: type, size, inode, link count, times (ns) and symlink target.</summary>
    public static Dictionary<string, Stat> Snapshot(string mount)
    {
        string output = Tool.Run("find", mount, "-printf", "%P\\0%y\\0%s\\0%i\\0%n\\0%T@\\0%A@\\0%C@\\0%l\\0");
        var f = output.Split('\0');
        var result = new Dictionary<string, Stat>(StringComparer.Ordinal);
        for (int i = 0; i + 9 <= f.Length; i += 9)
        {
            string path = "/" + f[i];
            result[path] = new Stat(path, f[i + 1][0], long.Parse(f[i + 2], CultureInfo.InvariantCulture), ulong.Parse(f[i + 3], CultureInfo.InvariantCulture),
                int.Parse(f[i + 4], CultureInfo.InvariantCulture), ParseTime(f[i + 5]), ParseTime(f[i + 6]), ParseTime(f[i + 7]), f[i + 8]);
        }
        return result;
    }

    static MapTime ParseTime(string s)
    {
        int dot = s.IndexOf('.', StringComparison.Ordinal);
        long sec = long.Parse(dot < 0 ? s : s[..dot], CultureInfo.InvariantCulture);
        int ns = dot < 0 ? 0 : int.Parse(s[(dot + 1)..].PadRight(9, '0')[..9], CultureInfo.InvariantCulture);
        return new MapTime(sec, ns);
    }

    /// <summary>All user.* xattrs (alternate data streams) under the mount, by path, from one getfattr walk.</summary>
    public static Dictionary<string, Dictionary<string, byte[]>> Streams(string mount)
    {
        var r = Tool.TryRun("getfattr", ["-R", "-P", "-d", "-m", "^user\\.", "-e", "hex", "--absolute-names", mount]);
        var result = new Dictionary<string, Dictionary<string, byte[]>>(StringComparer.Ordinal);
        Dictionary<string, byte[]>? current = null;
        foreach (var line in r.Stdout.Split('\n'))
        {
            if (line.StartsWith("# file: ", StringComparison.Ordinal))
            {
                string path = Unescape(line[8..]);
                path = path.Length == mount.Length ? "/" : path[mount.Length..];
                result[path] = current = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            }
            else if (current is not null && line.StartsWith("user.", StringComparison.Ordinal))
            {
                int eq = line.IndexOf('=', StringComparison.Ordinal);
                string name = Unescape(line[5..eq]);
                string hex = line[(eq + 1)..];
                current[name] = hex.StartsWith("0x", StringComparison.Ordinal) ? Convert.FromHexString(hex[2..]) : [];
            }
        }
        return result;
    }

    // getfattr writes bytes outside printable ASCII as \ooo octal escapes.
    static string Unescape(string s)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && IsOctal(s, i + 1))
            {
                bytes.Add((byte)Convert.ToInt32(s.Substring(i + 1, 3), 8));
                i += 3;
            }
            else bytes.AddRange(Encoding.UTF8.GetBytes(s[i].ToString()));
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    static bool IsOctal(string s, int at) =>
        at + 3 <= s.Length && s[at] is >= '0' and <= '7' && s[at + 1] is >= '0' and <= '7' && s[at + 2] is >= '0' and <= '7';

    /// <summary>
    /// Asserts that the map and the mount agree on every path, kind, size, inode, hard link, time and byte.
    /// Returns the number of streams compared.
    /// </summary>
    public static int AssertMatchesMount(string imagePath, Mapped map, string mount, bool checkStreams)
    {
        var unmappable = map.Entries.Where(e => e.Kind == MapEntryKind.Unmappable).Select(e => $"{e.Id}: {e.Error}").ToList();
        Assert.True(unmappable.Count == 0, "unexpected unmappable entries:\n" + string.Join('\n', unmappable.Take(20)));

        var byPath = new Dictionary<string, MapEntry>(StringComparer.Ordinal);
        foreach (var e in map.Entries)
        {
            Assert.True(byPath.TryAdd(e.Path, e), $"path {e.Path} mapped twice");
            foreach (var l in e.Links) Assert.True(byPath.TryAdd(l, e), $"link {l} mapped twice");
        }
        var stats = Snapshot(mount);
        var missing = stats.Keys.Where(p => !byPath.ContainsKey(p)).Take(20).ToList();
        var extra = byPath.Keys.Where(p => !stats.ContainsKey(p)).Take(20).ToList();
        Assert.True(missing.Count == 0, "on the mount but not in the map: " + string.Join(", ", missing));
        Assert.True(extra.Count == 0, "in the map but not on the mount: " + string.Join(", ", extra));

        var xattrs = checkStreams ? Streams(mount) : null;
        using var device = new FileBlockSource(imagePath);
        int block = map.Volume.BlockSizeBytes;
        int compared = 0;
        foreach (var (path, e) in byPath)
        {
            var st = stats[path];
            Assert.Equal(e.Id, st.Inode);
            char expectedType = e.Kind switch { MapEntryKind.Directory => 'd', MapEntryKind.Symlink => 'l', _ => 'f' };
            Assert.True(expectedType == st.Type, $"{path}: map kind {e.Kind}, mount type {st.Type}");
            Assert.True(e.Modified == st.Modified, $"{path}: modified {e.Modified} vs {st.Modified}");
            Assert.True(e.Accessed == st.Accessed, $"{path}: accessed {e.Accessed} vs {st.Accessed}");
            Assert.True(e.Changed == st.Changed, $"{path}: changed {e.Changed} vs {st.Changed}");
            if (e.Kind == MapEntryKind.File)
            {
                Assert.Equal(1 + e.Links.Count, st.Links);
                Assert.True(e.SizeBytes == st.Size, $"{path}: size {e.SizeBytes} vs {st.Size}");
                var unnamed = e.Streams.Single(s => s.Name.Length == 0);
                var fromImage = ReadStream(device, unnamed, block);
                var fromMount = File.ReadAllBytes(Path.Combine(mount, path.TrimStart('/')));
                Assert.True(fromMount.AsSpan().SequenceEqual(fromImage), $"{path}: bytes differ ({fromImage.Length} mapped, {fromMount.Length} on the mount)");
                compared++;
            }
            else if (e.Kind == MapEntryKind.Symlink)
            {
                Assert.Equal(st.LinkTarget, e.Target);
            }
            if (xattrs is not null && e.Kind != MapEntryKind.Symlink && path == e.Path)
            {
                var named = e.Streams.Where(s => s.Name.Length > 0).ToDictionary(s => s.Name, StringComparer.Ordinal);
                xattrs.TryGetValue(path, out var onMount);
                onMount ??= [];
                Assert.Equal(onMount.Keys.Order(StringComparer.Ordinal), named.Keys.Order(StringComparer.Ordinal));
                foreach (var (name, s) in named)
                {
                    Assert.True(onMount[name].AsSpan().SequenceEqual(ReadStream(device, s, block)), $"{path}:{name}: stream bytes differ");
                    compared++;
                }
            }
        }
        return compared;
    }
}
