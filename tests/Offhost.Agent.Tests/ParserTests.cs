using System.Buffers.Binary;
using FsCheck;
using FsCheck.Xunit;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Io.FileSystems;

namespace Offhost.Agent.Tests;

public class ParserTests
{
    [Property(MaxTest = 1000)]
    public bool Fiemap_reply_of_arbitrary_bytes_parses_or_raises_corrupt_structure(byte[] reply, PositiveInt capacity)
    {
        try
        {
            var list = FiemapExtent.ParseReply(reply, capacity.Get % 512);
            return list.All(e => e.LogicalBytes >= 0 && e.PhysicalBytes >= 0 && e.LengthBytes >= 0);
        }
        catch (CorruptStructureException) { return true; }
    }

    [Property(MaxTest = 300)]
    public bool Fiemap_reply_round_trips(ulong[] logical, uint[] length, uint[] flags)
    {
        int n = Math.Min(logical.Length, Math.Min(length.Length, flags.Length));
        byte[] reply = new byte[FiemapExtent.HeaderBytes + n * FiemapExtent.SizeBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(reply.AsSpan(20), (uint)n);
        var expected = new List<FiemapExtent>();
        for (int i = 0; i < n; i++)
        {
            var e = new FiemapExtent((long)(logical[i] >> 2), (long)(logical[i] >> 3), length[i], (FiemapExtentFlags)flags[i]);
            var at = reply.AsSpan(FiemapExtent.HeaderBytes + i * FiemapExtent.SizeBytes);
            BinaryPrimitives.WriteInt64LittleEndian(at, e.LogicalBytes);
            BinaryPrimitives.WriteInt64LittleEndian(at[8..], e.PhysicalBytes);
            BinaryPrimitives.WriteInt64LittleEndian(at[16..], e.LengthBytes);
            BinaryPrimitives.WriteUInt32LittleEndian(at[40..], flags[i]);
            expected.Add(e);
        }
        return FiemapExtent.ParseReply(reply, n).SequenceEqual(expected);
    }

    [Fact]
    public void Fiemap_count_above_capacity_is_rejected_with_offset()
    {
        byte[] reply = new byte[32];
        BinaryPrimitives.WriteUInt32LittleEndian(reply.AsSpan(20), 1000);
        var e = Assert.Throws<CorruptStructureException>(() => FiemapExtent.ParseReply(reply, 256));
        Assert.Equal(20, e.DeviceOffset);
    }

    [Fact]
    public void Fiemap_extents_become_map_extents_with_holes_and_unwritten_as_zero()
    {
        FiemapExtent[] e =
        [
            new(0, 1_048_576, 8192, FiemapExtentFlags.None),
            new(16384, 2_097_152, 4096, FiemapExtentFlags.Unwritten),
            new(20480, 4096, 8192, FiemapExtentFlags.Last),
        ];
        var m = FiemapMapper.ToMapExtents(e, 30000, 4096);
        Assert.Equal(
        [
            MapExtent.Data(0, 8192, 256, 4096),
            MapExtent.Zero(8192, 8192),
            MapExtent.Zero(16384, 4096),
            MapExtent.Data(20480, 8192, 1, 4096),
            MapExtent.Zero(28672, 30000 - 28672),
        ], m);
        Assert.Throws<NotSupportedException>(() => FiemapMapper.ToMapExtents([new(0, 0, 4096, FiemapExtentFlags.DataInline | FiemapExtentFlags.Last)], 100, 4096));
    }

    [Fact]
    public void Block_stat_fields_five_and_seven_are_writes_and_sectors()
    {
        var s = BlockDeviceStat.Parse("   15791     1542   209012    10192    43064    55122   696098    28025        0    32816    62715        0        0        0        0    25075    24497\n");
        Assert.Equal(new BlockDeviceStat(43064, 696098), s);
        Assert.Null(BlockDeviceStat.Parse("1 2 3"));
        Assert.Null(BlockDeviceStat.Parse("1 2 3 4 x 6 7"));
    }

    [Property(MaxTest = 500)]
    public bool Block_stat_of_arbitrary_text_never_throws(string text)
    {
        _ = BlockDeviceStat.Parse(text ?? "");
        return true;
    }

    [Fact]
    public void Mountinfo_lines_parse_with_optional_fields_and_octal_escapes()
    {
        const string text = """
            22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
            43 22 7:3 / /tmp/my\040mount rw,relatime shared:5 master:2 - ext4 /dev/loop3 rw
            44 22 0:45 / /proc rw - proc proc rw
            45 22 7:4 / /mnt/ro ro,relatime - xfs /dev/loop4 ro,attr2
            garbage
            """;
        var mounts = MountInfo.Parse(text);
        Assert.Equal(4, mounts.Count);
        var m = mounts[1];
        Assert.Equal((7u, 3u, "/tmp/my mount", "ext4", "/dev/loop3"), (m.Major, m.Minor, m.MountPoint, m.FileSystemType, m.Source));
        Assert.False(m.IsReadOnly);
        Assert.True(mounts[3].IsReadOnly);
        Assert.Equal("/tmp/my mount", MountInfo.ContainingMount("/tmp/my mount/a/b", mounts)!.MountPoint);
        Assert.Equal("/", MountInfo.ContainingMount("/tmp/my mountx", mounts)!.MountPoint);
        Assert.Single(MountInfo.MountsOf(7, 4, mounts));
    }

    [Property(MaxTest = 500)]
    public bool Mountinfo_of_arbitrary_text_never_throws(string text)
    {
        _ = MountInfo.Parse(text ?? "");
        return true;
    }

    [Property(MaxTest = 500)]
    public bool Statx_buffer_of_arbitrary_bytes_never_throws(byte[] tail)
    {
        byte[] b = new byte[256];
        tail.AsSpan(0, Math.Min(tail.Length, 256)).CopyTo(b);
        _ = FileStatus.Parse(b);
        return true;
    }

    [Fact]
    public void Statx_of_this_directory_and_a_block_device()
    {
        var dir = FileStatus.Of(".");
        Assert.True(dir.IsDirectory);
        var file = FileStatus.Of(typeof(ParserTests).Assembly.Location);
        Assert.True(file.IsRegularFile);
        Assert.Equal(new FileInfo(typeof(ParserTests).Assembly.Location).Length, file.SizeBytes);
        Assert.True(file.ModifiedNanoseconds > 1_600_000_000L * 1_000_000_000);
        var e = Assert.Throws<FileSystemCallException>(() => FileStatus.Of("/nonexistent/offhost"));
        Assert.Equal(2, e.Errno);
        Assert.Contains("/nonexistent/offhost", e.Message, StringComparison.Ordinal);
    }
}
