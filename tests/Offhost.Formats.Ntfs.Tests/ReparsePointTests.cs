using System.Buffers.Binary;
using System.Text;
using Offhost.Core.Mapping;
using Offhost.Testing;

namespace Offhost.Formats.Ntfs.Tests;

[Trait("Category", "Integration")]
public sealed class ReparsePointTests
{
    static byte[] Reparse(uint tag, byte[] data)
    {
        var b = new byte[8 + data.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(b, tag);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(4), (ushort)data.Length);
        data.CopyTo(b, 8);
        return b;
    }

    static byte[] PathBuffer(string substitute, string print, uint? flags)
    {
        byte[] sub = Encoding.Unicode.GetBytes(substitute), pr = Encoding.Unicode.GetBytes(print);
        int fixedBytes = flags is null ? 8 : 12;
        var d = new byte[fixedBytes + sub.Length + pr.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(d, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(2), (ushort)sub.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(4), (ushort)sub.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(6), (ushort)pr.Length);
        if (flags is uint f) BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(8), f);
        sub.CopyTo(d, fixedBytes);
        pr.CopyTo(d, fixedBytes + sub.Length);
        return d;
    }

    /// <summary>Windows symlinks and junctions, written as raw reparse data through ntfs-3g's system.ntfs_reparse_data.</summary>
    [Fact]
    public void Windows_symlinks_and_junctions_are_links()
    {
        using var b = new NtfsVolumeBuilder("reparse", 16L * 1024 * 1024);
        var symlink = Reparse(0xA000000C, PathBuffer(@"dir\file.txt", @"dir\file.txt", 1));
        var junction = Reparse(0xA0000003, PathBuffer(@"\??\C:\Windows", @"C:\Windows", null));
        var lx = Reparse(0xA000001D, [2, 0, 0, 0, .. "../wsl/target"u8]);
        b.Mount();
        b.Bash($"""
            : > wsym
            setfattr -n system.ntfs_reparse_data -v 0x{Convert.ToHexString(symlink)} wsym
            mkdir junc
            setfattr -n system.ntfs_reparse_data -v 0x{Convert.ToHexString(junction)} junc
            : > lxsym
            setfattr -n system.ntfs_reparse_data -v 0x{Convert.ToHexString(lx)} lxsym
            echo plain > plain
            """);
        b.Unmount();
        var map = MapVerifier.Map(b.ImagePath);
        var w = map.Entries.Single(e => e.Path == "/wsym");
        Assert.Equal((MapEntryKind.Symlink, "symlink", @"dir\file.txt"), (w.Kind, w.LinkKind, w.Target));
        Assert.Contains("reparse", w.Attributes);
        var j = map.Entries.Single(e => e.Path == "/junc");
        Assert.Equal((MapEntryKind.Symlink, "junction", @"C:\Windows"), (j.Kind, j.LinkKind, j.Target));
        var l = map.Entries.Single(e => e.Path == "/lxsym");
        Assert.Equal((MapEntryKind.Symlink, "symlink", "../wsl/target"), (l.Kind, l.LinkKind, l.Target));
        Assert.Equal(MapEntryKind.File, map.Entries.Single(e => e.Path == "/plain").Kind);
    }
}
