using System.Text;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Index;
using Offhost.Formats.Tape.Pax;
using Offhost.Testing;

namespace Offhost.Formats.Tape.Tests;

/// <summary>FIFOs, device nodes and sockets as pax members, checked with GNU tar as the reference reader and writer.</summary>
public sealed class SpecialMemberTests : IDisposable
{
    readonly Scratch scratch = new("pax-special");

    public void Dispose() => scratch.Dispose();

    static readonly MapTime When = new(1_600_000_000, 0);

    static readonly PaxEntry[] Members =
    [
        new("dev/", PaxEntryKind.Directory) { Mode = 0x1ED, Modified = When },
        new("dev/fifo", PaxEntryKind.Fifo) { Mode = 0x1A0, Uid = 12, Gid = 34, Modified = When },
        new("dev/null", PaxEntryKind.CharDevice) { Mode = 0x1B6, Device = new DeviceNumber(1, 3), Modified = When },
        new("dev/loop200", PaxEntryKind.BlockDevice) { Mode = 0x180, Device = new DeviceNumber(7, 200), Modified = When },
        new("dev/big", PaxEntryKind.CharDevice) { Mode = 0x1A4, Device = new DeviceNumber(4095, 1_048_575), Modified = When },
        new("dev/sock", PaxEntryKind.Socket) { Mode = 0x1ED, Modified = When },
    ];

    static byte[] Archive(IEnumerable<PaxEntry> entries)
    {
        var output = new MemoryStream();
        foreach (var e in entries)
        {
            var encoded = PaxEntryEncoder.Encode(e);
            Assert.Empty(encoded.Layout.Segments);
            output.Write(encoded.Header);
            output.SetLength(output.Length + encoded.Layout.TotalBytes - encoded.Header.Length);
            output.Position = output.Length;
        }
        output.Write(PaxLayout.EncodeEndOfArchive());
        return output.ToArray();
    }

    [Fact]
    public void Typeflags_and_device_fields_are_the_ustar_ones()
    {
        var header = PaxEntryEncoder.Encode(Members[3]).Header;
        var ustar = header.AsSpan(header.Length - 512);
        Assert.Equal((byte)'4', ustar[156]);
        Assert.Equal("0000007\0", Encoding.ASCII.GetString(ustar.Slice(329, 8)));
        Assert.Equal("0000310\0", Encoding.ASCII.GetString(ustar.Slice(337, 8)));
        Assert.Equal((byte)'6', PaxEntryEncoder.Encode(Members[1]).Header[^512..][156]);
        Assert.Equal((byte)'3', PaxEntryEncoder.Encode(Members[2]).Header[^512..][156]);
        var socket = PaxEntryEncoder.Encode(Members[5]).Header;
        Assert.Equal((byte)'0', socket[^512..][156]);
        Assert.Contains("SCHILY.filetype=socket\n", Encoding.UTF8.GetString(socket), StringComparison.Ordinal);
    }

    [Fact]
    public void Device_numbers_beyond_the_ustar_fields_travel_as_star_records()
    {
        var entry = new PaxEntry("d", PaxEntryKind.BlockDevice) { Device = new DeviceNumber(2_097_152, uint.MaxValue) };
        string header = Encoding.UTF8.GetString(PaxEntryEncoder.Encode(entry).Header);
        Assert.Contains("SCHILY.devmajor=2097152\n", header, StringComparison.Ordinal);
        Assert.Contains("SCHILY.devminor=4294967295\n", header, StringComparison.Ordinal);
        Assert.Equal(entry.Device, Assert.Single(PaxHeaderReader.ReadAll(Archive([entry]))).Device);
    }

    [Fact]
    public void Devices_need_their_number_and_other_kinds_refuse_one()
    {
        Assert.Throws<ArgumentException>(() => PaxEntryEncoder.Encode(new PaxEntry("d", PaxEntryKind.CharDevice)));
        Assert.Throws<ArgumentException>(() => PaxEntryEncoder.Encode(new PaxEntry("f", PaxEntryKind.Fifo) { Device = new DeviceNumber(1, 1) }));
        Assert.Throws<ArgumentException>(() => PaxEntryEncoder.Encode(new PaxEntry("s", PaxEntryKind.Socket) { SizeBytes = 1 }));
    }

    [Fact]
    public void A_socket_marker_on_a_member_with_data_keeps_the_data_as_a_file()
    {
        Requires.Tool("tar");
        Tool.Bash($"""
            cd '{scratch.Dir}' && printf 'ten bytes!' > data && printf '' > empty
            tar --format=pax --pax-option='SCHILY.filetype:=socket' -cf marked.tar data empty
            """);
        var members = PaxHeaderReader.ReadAll(File.ReadAllBytes(scratch["marked.tar"]));
        Assert.Equal((PaxEntryKind.File, 10L), (members[0].Kind, members[0].SizeBytes));
        Assert.Equal(PaxEntryKind.Socket, members[1].Kind);
    }

    [Fact]
    public void Index_records_device_numbers()
    {
        var header = new TapeIndexHeader(Guid.NewGuid(), "src", When, 1);
        var entries = Members.Select((m, i) => new TapeIndexEntry(m.Path, m.Kind, i * 1024L) { Mode = m.Mode, Device = m.Device }).ToList();
        var back = TapeIndexDecoder.Decode(TapeIndexEncoder.Encode(header, entries));
        Assert.Equal(entries, back.Entries.Select(e => e with { Streams = [] }));
        Assert.Throws<ArgumentException>(() => TapeIndexEncoder.Encode(header, [new TapeIndexEntry("d", PaxEntryKind.BlockDevice, 0)]));
    }

    [Fact]
    public void GNU_tar_lists_what_the_encoder_writes()
    {
        Requires.Tool("tar");
        File.WriteAllBytes(scratch["a.tar"], Archive(Members));
        var r = Tool.TryRun("/bin/bash", ["-c", $"TZ=UTC LC_ALL=C tar --numeric-owner -tvf '{scratch["a.tar"]}'"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("prw-r----- 12/34 ", lines[1]);
        Assert.Matches(@"^crw-rw-rw- 0/0 +1,3 .* dev/null$", lines[2]);
        Assert.Matches(@"^brw------- 0/0 +7,200 .* dev/loop200$", lines[3]);
        Assert.Matches(@"^crw-r--r-- 0/0 +4095,1048575 .* dev/big$", lines[4]);
        // GNU tar has no type for a socket: it lists (and would extract) an empty regular file, and names the keyword.
        Assert.Matches(@"^-rwxr-xr-x 0/0 +0 .* dev/sock$", lines[5]);
        Assert.Contains("SCHILY.filetype", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public void GNU_tar_extracts_the_nodes_with_their_numbers()
    {
        Requires.Root();
        Requires.Tool("tar");
        File.WriteAllBytes(scratch["a.tar"], Archive(Members));
        Directory.CreateDirectory(scratch["out"]);
        Tool.TryRun("tar", ["-xpf", scratch["a.tar"], "-C", scratch["out"]]);
        string stat = Tool.Run("stat", "-c", "%n %F %t:%T %a %u:%g %Y", scratch["out/dev/fifo"], scratch["out/dev/null"], scratch["out/dev/loop200"], scratch["out/dev/big"]);
        var lines = stat.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[(scratch["out/dev/"].Length)..]).ToArray();
        Assert.Equal(
        [
            "fifo fifo 0:0 640 12:34 1600000000",
            "null character special file 1:3 666 0:0 1600000000",
            "loop200 block special file 7:c8 600 0:0 1600000000",
            "big character special file fff:fffff 644 0:0 1600000000",
        ], lines);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public void Reads_the_nodes_GNU_tar_writes()
    {
        Requires.Root();
        Requires.Tool("tar");
        Tool.Bash($"""
            cd '{scratch.Dir}' && mkdir src && cd src
            mkfifo fifo && mknod null c 1 3 && mknod loop b 7 200 && mknod big c 300 70000
            tar --format=pax -cf ../gnu.tar fifo null loop big
            """);
        var members = PaxHeaderReader.ReadAll(File.ReadAllBytes(scratch["gnu.tar"])).ToDictionary(m => m.Path);
        Assert.Equal(PaxEntryKind.Fifo, members["fifo"].Kind);
        Assert.Null(members["fifo"].Device);
        Assert.Equal((PaxEntryKind.CharDevice, new DeviceNumber(1, 3)), (members["null"].Kind, members["null"].Device!.Value));
        Assert.Equal((PaxEntryKind.BlockDevice, new DeviceNumber(7, 200)), (members["loop"].Kind, members["loop"].Device!.Value));
        Assert.Equal(new DeviceNumber(300, 70000), members["big"].Device);
    }
}
