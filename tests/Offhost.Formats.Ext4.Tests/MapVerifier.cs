using Offhost.Core.Devices;
using Offhost.Core.Mapping;

namespace Offhost.Formats.Ext4.Tests;

/// <summary>Checks a storage map against a mount of the same image: names, metadata, xattrs and every byte of every file.</summary>
internal static class MapVerifier
{
    /// <summary>Reads the bytes of a stream from the device at the reported extents.</summary>
    public static void ReadStream(IBlockSource device, int blockSize, MapStream s, Action<long, ReadOnlySpan<byte>> sink)
    {
        if (s.ResidentData is ReadOnlyMemory<byte> r) { sink(0, r.Span); return; }
        long expect = 0;
        var buf = new byte[(int)Math.Clamp(s.SizeBytes, 1, 1 << 20)];
        foreach (var x in s.Extents)
        {
            Assert.Equal(expect, x.OffsetBytes);
            Assert.True(x.LengthBytes > 0, "empty extent");
            expect = x.EndBytes;
            for (long done = 0; done < x.LengthBytes;)
            {
                int n = (int)Math.Min(buf.Length, x.LengthBytes - done);
                var span = buf.AsSpan(0, n);
                if (x.Kind == ExtentKind.Zero) span.Clear();
                else
                {
                    Assert.Equal(ExtentKind.Data, x.Kind);
                    Assert.Equal((x.LengthBytes + blockSize - 1) / blockSize, x.Blocks);
                    device.ReadAt(x.Lba * blockSize + done, span);
                }
                sink(x.OffsetBytes + done, span);
                done += n;
            }
        }
        Assert.Equal(s.SizeBytes, expect);
    }

    /// <summary>Asserts the map and the mount agree on everything; returns the entries for further checks.</summary>
    public static List<MapEntry> Verify(IVolumeMapper mapper, IBlockSource device, MountTruth truth, bool checkContent = true)
    {
        var entries = mapper.Entries(TestContext.Current.CancellationToken).ToList();
        var unmappable = entries.Where(e => e.Kind == MapEntryKind.Unmappable).Select(e => $"{e.Path}: {e.Error}").ToList();
        Assert.Empty(unmappable);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            Assert.True(seen.Add(e.Path), $"path mapped twice: {e.Path}");
            foreach (var l in e.Links) Assert.True(seen.Add(l), $"link mapped twice: {l}");
            Assert.True(truth.Nodes.TryGetValue(e.Path, out var n), $"mapped path not on the mount: {e.Path}");
            VerifyEntry(e, n!, device, mapper.Volume.BlockSizeBytes, truth, checkContent);
            foreach (var l in e.Links)
            {
                Assert.True(truth.Nodes.TryGetValue(l, out var ln), $"link not on the mount: {l}");
                Assert.Equal(n!.Inode, ln!.Inode);
            }
        }
        var missing = truth.Nodes.Keys.Where(p => !seen.Contains(p)).ToList();
        Assert.Empty(missing);
        Assert.True(mapper.Statistics.RecordsScanned >= entries.Count);
        return entries;
    }

    static void VerifyEntry(MapEntry e, MountTruth.Node n, IBlockSource device, int blockSize, MountTruth truth, bool checkContent)
    {
        string where = e.Path;
        Assert.Equal(n.Inode, e.Id);
        Assert.Equal(n.Mode, e.Mode);
        Assert.Equal(n.Uid, e.Uid);
        Assert.Equal(n.Gid, e.Gid);
        Assert.True(n.Modified == e.Modified, $"{where}: mtime {e.Modified} != {n.Modified}");
        Assert.True(n.Accessed == e.Accessed, $"{where}: atime {e.Accessed} != {n.Accessed}");
        Assert.True(n.Changed == e.Changed, $"{where}: ctime {e.Changed} != {n.Changed}");
        if (n.Birth is not null) Assert.True(n.Birth == e.Created, $"{where}: crtime {e.Created} != {n.Birth}");
        switch (n.Type)
        {
            case "dir":
                Assert.Equal(MapEntryKind.Directory, e.Kind);
                Assert.Empty(e.Streams);
                break;
            case "symlink":
                Assert.Equal(MapEntryKind.Symlink, e.Kind);
                Assert.Equal(new FileInfo(Path.Combine(truth.Root, e.Path.TrimStart('/'))).LinkTarget, e.Target);
                Assert.Equal(n.Size, e.SizeBytes);
                break;
            case "file":
                Assert.Equal(MapEntryKind.File, e.Kind);
                Assert.Equal(n.Size, e.SizeBytes);
                Assert.Equal(n.Links, e.Links.Count + 1);
                var s = Assert.Single(e.Streams);
                Assert.Equal("", s.Name);
                Assert.Equal(n.Size, s.SizeBytes);
                if (checkContent) CompareContent(e, s, device, blockSize, Path.Combine(truth.Root, e.Path.TrimStart('/')));
                break;
            default:
                Assert.Equal(MapEntryKind.Special, e.Kind);
                Assert.Equal(SpecialFiles.FromMode(n.Mode), e.Special);
                Assert.True(n.Rdev == e.Device, $"{where}: device {e.Device} != {n.Rdev}");
                Assert.Empty(e.Streams);
                break;
        }
        if (truth.Xattrs.Count > 0)
        {
            truth.Xattrs.TryGetValue(e.Path, out var want);
            want ??= [];
            var have = e.Xattrs.ToDictionary(kv => kv.Key, kv => MountTruth.Hex(kv.Value), StringComparer.Ordinal);
            Assert.Equal(want.OrderBy(k => k.Key, StringComparer.Ordinal), have.OrderBy(k => k.Key, StringComparer.Ordinal));
        }
    }

    static void CompareContent(MapEntry e, MapStream s, IBlockSource device, int blockSize, string mountedPath)
    {
        using var f = new FileStream(mountedPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var expected = new byte[(int)Math.Clamp(s.SizeBytes, 1, 1 << 20)];
        ReadStream(device, blockSize, s, (offset, bytes) =>
        {
            Assert.Equal(offset, f.Position);
            var want = expected.AsSpan(0, bytes.Length);
            f.ReadExactly(want);
            if (!want.SequenceEqual(bytes))
            {
                int i = 0;
                while (want[i] == bytes[i]) i++;
                Assert.Fail($"{e.Path}: byte {offset + i} differs between the image at the mapped extents and the mount");
            }
        });
        Assert.Equal(f.Length, f.Position);
    }
}
