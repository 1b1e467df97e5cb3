using System.Buffers.Binary;
using FsCheck.Xunit;
using Offhost.Core.Mapping;
using Offhost.Testing;

namespace Offhost.Formats.Ext4.Tests;

/// <summary>FIFOs, device nodes and sockets: decoded from i_block as the kernel does, checked against a loop mount.</summary>
public sealed class SpecialFileTests : IDisposable
{
    readonly Scratch scratch = new("ext4-special");

    public void Dispose() => scratch.Dispose();

    /// <summary>How Linux writes a device number into i_block (ext4_write_inode): the old 16-bit form in word 0 when
    /// major and minor are both below 256, else the new 32-bit form in word 1.</summary>
    static byte[] IBlock(uint major, uint minor)
    {
        var b = new byte[Ext4Inode.BlockFieldBytes];
        if (major < 256 && minor < 256) BinaryPrimitives.WriteUInt32LittleEndian(b, major << 8 | minor);
        else BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), (minor & 0xFF) | (major << 8) | ((minor & ~0xFFu) << 12));
        return b;
    }

    [Theory]
    [InlineData(1u, 3u)]
    [InlineData(7u, 200u)]
    [InlineData(0u, 0u)]
    [InlineData(255u, 255u)]
    [InlineData(256u, 0u)]
    [InlineData(300u, 70000u)]
    [InlineData(4095u, 1048575u)]
    public void Device_numbers_in_either_encoding_decode(uint major, uint minor) =>
        Assert.Equal(new DeviceNumber(major, minor), Ext4Inode.DecodeDevice(IBlock(major, minor)));

    [Property(MaxTest = 2000)]
    public bool Device_numbers_round_trip(uint major, uint minor)
    {
        major &= 0xFFF;
        minor &= 0xF_FFFF;
        return Ext4Inode.DecodeDevice(IBlock(major, minor)) == new DeviceNumber(major, minor);
    }

    [Property(MaxTest = 2000)]
    public bool Arbitrary_i_block_bytes_decode_to_a_linux_sized_device_number(byte[]? bytes)
    {
        var block = new byte[Ext4Inode.BlockFieldBytes];
        (bytes ?? []).AsSpan(0, Math.Min(block.Length, bytes?.Length ?? 0)).CopyTo(block);
        var d = Ext4Inode.DecodeDevice(block);
        return d.Major <= 0xFFF && d.Minor <= 0xF_FFFF;
    }

    [Fact]
    public void Old_form_ignores_the_high_half_of_word_0_as_linux_does()
    {
        var b = new byte[Ext4Inode.BlockFieldBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(b, 0xABCD_0103);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), 0xFFFF_FFFF);
        Assert.Equal(new DeviceNumber(1, 3), Ext4Inode.DecodeDevice(b));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public void Fifo_devices_and_socket_from_mkfs_d_match_the_mounted_volume()
    {
        Requires.Root();
        Requires.Tool("mkfs.ext4");
        string src = scratch["src"];
        Directory.CreateDirectory(src);
        Tool.Bash($"""
            cd '{src}'
            mkdir dev
            mkfifo dev/fifo
            mknod dev/null c 1 3
            mknod -m 600 dev/loop200 b 7 200
            mknod dev/big c 300 70000
            chown 12:34 dev/big
            python3 -c 'import socket; s=socket.socket(socket.AF_UNIX); s.bind("dev/sock")'
            echo data > plain
            """);
        string image = Ext4VolumeBuilder.Create(scratch["special.img"], 16L << 20, "ext4", src);
        using var img = new Ext4TestImage(image);
        using var m = Ext4VolumeBuilder.Mount(image, scratch["mnt"], readOnly: true);
        var entries = MapVerifier.Verify(img.Open(), img.Device, new MountTruth(m.Path, withXattrs: false));
        Assert.Equal(SpecialFileKind.Fifo, Assert.Single(entries, e => e.Path == "/dev/fifo").Special);
        Assert.Equal(new DeviceNumber(1, 3), Assert.Single(entries, e => e.Path == "/dev/null").Device);
        var loop = Assert.Single(entries, e => e.Path == "/dev/loop200");
        Assert.Equal((SpecialFileKind.BlockDevice, new DeviceNumber(7, 200), 0x6180u), (loop.Special!.Value, loop.Device!.Value, loop.Mode!.Value));
        var big = Assert.Single(entries, e => e.Path == "/dev/big");
        Assert.Equal((SpecialFileKind.CharDevice, new DeviceNumber(300, 70000), 12u, 34u), (big.Special!.Value, big.Device!.Value, big.Uid!.Value, big.Gid!.Value));
        var sock = Assert.Single(entries, e => e.Path == "/dev/sock");
        Assert.Equal(SpecialFileKind.Socket, sock.Special);
        Assert.Null(sock.Device);
        Assert.Equal(MapEntryKind.File, Assert.Single(entries, e => e.Path == "/plain").Kind);
    }
}
