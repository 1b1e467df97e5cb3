using Offhost.Core.Mapping;
using Offhost.Io.FileSystems;
using Offhost.Testing;

namespace Offhost.Agent.Tests;

/// <summary>lstat-style status of FIFOs, device nodes and sockets on a mounted file system, and mknodat for restores.</summary>
public sealed class SpecialFileStatusTests : IDisposable
{
    readonly Scratch scratch = new("special-status");

    public void Dispose() => scratch.Dispose();

    [Theory]
    [InlineData(SpecialFileKind.CharDevice, 1u, 3u)]
    [InlineData(SpecialFileKind.BlockDevice, 7u, 200u)]
    [InlineData(SpecialFileKind.CharDevice, 300u, 70000u)]
    [InlineData(SpecialFileKind.BlockDevice, 4095u, 1048575u)]
    [Trait("Category", "Integration")]
    public void Device_nodes_made_by_mknodat_have_the_number_stat_reports(SpecialFileKind kind, uint major, uint minor)
    {
        Requires.Root();
        string path = scratch[$"n-{major}-{minor}"];
        Assert.Equal(0, PosixFile.CreateSpecial(path, kind, 0x1A0, new DeviceNumber(major, minor)));
        var st = FileStatus.OfLink(path);
        Assert.Equal((kind, new DeviceNumber(major, minor), 0x1A0u), (st.Special!.Value, st.Device!.Value, st.Mode & 0xFFF));
        string type = kind == SpecialFileKind.CharDevice ? "character special file" : "block special file";
        Assert.Equal($"{type} {major:x}:{minor:x}", Tool.Run("stat", "-c", "%F %t:%T", path).Trim());
    }

    [Fact]
    public void Fifo_socket_and_symlink_are_told_apart_without_following_links()
    {
        string fifo = scratch["fifo"];
        Assert.Equal(0, PosixFile.CreateSpecial(fifo, SpecialFileKind.Fifo, 0x180, null));
        Assert.Equal((SpecialFileKind.Fifo, (DeviceNumber?)null), (FileStatus.OfLink(fifo).Special!.Value, FileStatus.OfLink(fifo).Device));
        Tool.Run("python3", "-c", $"import socket; s=socket.socket(socket.AF_UNIX); s.bind('{scratch["sock"]}')");
        Assert.Equal(SpecialFileKind.Socket, FileStatus.OfLink(scratch["sock"]).Special);
        File.CreateSymbolicLink(scratch["link"], "fifo");
        Assert.Null(FileStatus.OfLink(scratch["link"]).Special);
        Assert.Equal(SpecialFileKind.Fifo, FileStatus.Of(scratch["link"]).Special);
        Assert.Null(FileStatus.OfLink(scratch.Dir).Special);
    }

    [Fact]
    public void Sockets_and_contradictions_are_refused_and_nothing_is_replaced()
    {
        Assert.Equal(22, PosixFile.CreateSpecial(scratch["s"], SpecialFileKind.Socket, 0x1ED, null));
        Assert.Equal(22, PosixFile.CreateSpecial(scratch["c"], SpecialFileKind.CharDevice, 0x1ED, null));
        Assert.Equal(22, PosixFile.CreateSpecial(scratch["f"], SpecialFileKind.Fifo, 0x1ED, new DeviceNumber(1, 1)));
        Assert.False(File.Exists(scratch["s"]) || File.Exists(scratch["c"]) || File.Exists(scratch["f"]));
        File.WriteAllText(scratch["taken"], "x");
        Assert.Equal(17, PosixFile.CreateSpecial(scratch["taken"], SpecialFileKind.Fifo, 0x1ED, null));   // EEXIST
        Assert.Equal("x", File.ReadAllText(scratch["taken"]));
    }
}
