using System.IO.Hashing;
using System.Text;
using Offhost.Core.Devices;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Index;
using Offhost.Formats.Tape.Label;
using Offhost.Formats.Tape.Pax;
using Offhost.Io.Tape;
using Offhost.Server.Restore;
using Offhost.Testing;

namespace Offhost.Server.Tests.Restore;

public class HostileArchiveTests
{
    /// <summary>A raw ustar header block: the encoder refuses such names, so hostile archives are written by hand.</summary>
    static byte[] Ustar(string name, char type, long size, string link = "")
    {
        var b = new byte[512];
        Encoding.UTF8.GetBytes(name).CopyTo(b, 0);
        Encoding.ASCII.GetBytes("0000644\0").CopyTo(b, 100);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(b, 108);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(b, 116);
        Encoding.ASCII.GetBytes(Convert.ToString(size, 8).PadLeft(11, '0') + "\0").CopyTo(b, 124);
        Encoding.ASCII.GetBytes("14000000000\0").CopyTo(b, 136);
        b[156] = (byte)type;
        Encoding.UTF8.GetBytes(link).CopyTo(b, 157);
        "ustar\0"u8.CopyTo(b.AsSpan(257));
        "00"u8.CopyTo(b.AsSpan(263));
        b.AsSpan(148, 8).Fill((byte)' ');
        int sum = b.Sum(x => x);
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(b, 148);
        return b;
    }

    [Fact]
    public async Task Names_reaching_outside_the_target_are_refused_and_nothing_lands_outside()
    {
        var ct = TestContext.Current.CancellationToken;
        using var scratch = new Scratch("restore-hostile");
        string outside = scratch["outside"];
        Directory.CreateDirectory(outside);
        string absolute = Path.Combine(outside, "absolute.txt");
        var members = new (string Name, char Type, string Data, string Link)[]
        {
            ("../escape.txt", '0', "dotdot", ""),
            ("a/../../escape2.txt", '0', "dotdot2", ""),
            (absolute, '0', "absolute", ""),
            ("evil", '2', "", outside),
            ("evil/through.txt", '0', "through a symlink", ""),
            ("hard", '1', "", "../escape.txt"),
            ("ok/fine.txt", '0', "fine", ""),
        };
        var archive = new MemoryStream();
        var entries = new List<TapeIndexEntry>();
        foreach (var (name, type, data, link) in members)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(data);
            var kind = type switch { '2' => PaxEntryKind.Symlink, '1' => PaxEntryKind.HardLink, _ => PaxEntryKind.File };
            long at = archive.Length;
            entries.Add(new TapeIndexEntry(name, kind, at)
            {
                SizeBytes = bytes.Length,
                LinkTarget = link.Length > 0 ? link : null,
                Streams = kind == PaxEntryKind.File ? [new TapeIndexStream("", bytes.Length, at, at + 512, XxHash64.HashToUInt64(bytes))] : [],
            });
            archive.Write(Ustar(name, type, bytes.Length, link));
            archive.Write(bytes);
            archive.Write(new byte[PaxLayout.RoundUpToBlock(bytes.Length) - bytes.Length]);
        }
        archive.Write(PaxLayout.EncodeEndOfArchive());

        await using var tape = SimhTapeDevice.Create(scratch["h.tap"], new VolumeLabel("HOST01", 64L << 20, 1L << 20, new MapTime(1_700_000_000, 0), Guid.NewGuid()));
        await tape.SpaceAsync(SpaceUnit.EndOfData, 1, ct);
        long archiveFile = tape.Position.FileNumber;
        await tape.WriteRecordAsync(archive.ToArray(), ct);
        await tape.WriteFilemarksAsync(1, ct);
        await tape.WriteRecordAsync(TapeIndexEncoder.Encode(new TapeIndexHeader(Guid.NewGuid(), "crafted", new MapTime(1, 0), archiveFile), entries), ct);
        await tape.WriteFilemarksAsync(1, ct);

        string target = scratch["target"];
        var result = await FileRestoreJob.RunAsync(new FileRestoreRequest(tape, archiveFile, target), null, ct);

        Assert.Contains(result.Refused, p => p.Path == "../escape.txt" && p.Reason.Contains("..", StringComparison.Ordinal));
        Assert.Contains(result.Refused, p => p.Path == "a/../../escape2.txt");
        Assert.Contains(result.Refused, p => p.Path == absolute && p.Reason.Contains("absolute", StringComparison.Ordinal));
        Assert.Contains(result.Refused, p => p.Path == "evil/through.txt" && p.Reason.Contains("symbolic link", StringComparison.Ordinal));
        Assert.Contains(result.NotRestored, p => p.Path == "hard");
        Assert.False(File.Exists(scratch["escape.txt"]));
        Assert.False(File.Exists(scratch["escape2.txt"]));
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.False(File.Exists(Path.Combine(target, "hard")));
        // The symlink itself is restored verbatim, inside the target; only writing through it is refused.
        Assert.Equal(outside, new FileInfo(Path.Combine(target, "evil")).LinkTarget);
        Assert.Equal("fine", File.ReadAllText(Path.Combine(target, "ok/fine.txt")));
    }
}
