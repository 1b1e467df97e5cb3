using System.Buffers;
using System.Formats.Tar;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Pax;
using Offhost.Testing;
using TestData = Offhost.Testing.TestData;

namespace Offhost.Formats.Tape.Tests;

public sealed class PaxEntryEncoderTests : IDisposable
{
    readonly Scratch scratch = new("pax-encoder");

    public void Dispose() => scratch.Dispose();

    static readonly string[] NameParts = ["a", "dir", "Grüße", "日本語", "x y", new string('n', 99), new string('m', 130), "€", "file.txt"];

    static Arbitrary<PaxEntry> Entries() =>
        (from parts in Gen.Elements(NameParts).ArrayOf().Where(a => a.Length > 0)
         from size in Gen.Choose(0, 5000)
         from mode in Gen.Choose(0, 0xFFF)
         from uid in Gen.Choose(0, int.MaxValue)
         from seconds in Gen.Choose(0, int.MaxValue)
         from nanos in Gen.Choose(0, 999_999_999)
         select new PaxEntry(string.Join('/', parts), PaxEntryKind.File)
         {
             SizeBytes = size,
             Mode = (uint)mode,
             Uid = (uint)uid,
             Gid = (uint)(uid / 3),
             Modified = new MapTime(seconds, nanos),
         }).ToArbitrary();

    static byte[] Member(PaxEntry entry, byte fill)
    {
        var encoded = PaxEntryEncoder.Encode(entry);
        var bytes = new byte[encoded.Layout.TotalBytes + PaxLayout.EndOfArchiveBytes];
        encoded.Header.CopyTo(bytes, 0);
        foreach (var s in encoded.Layout.Segments)
            bytes.AsSpan((int)s.MemberOffsetBytes, (int)s.LengthBytes).Fill(fill);
        return bytes;
    }

    [Property(MaxTest = 300)]
    public Property System_Formats_Tar_reads_back_what_the_encoder_wrote() =>
        Prop.ForAll(Entries(), entry =>
        {
            using var reader = new TarReader(new MemoryStream(Member(entry, 0x5A)));
            var e = (PaxTarEntry)reader.GetNextEntry()!;
            Assert.Equal(entry.Path, e.Name);
            Assert.Equal(entry.SizeBytes, e.Length);
            Assert.Equal((int)entry.Uid, e.Uid);
            Assert.Equal((int)entry.Gid, e.Gid);
            Assert.Equal((UnixFileMode)entry.Mode, e.Mode);
            // .NET keeps 100 ns ticks; the record itself carries all nine digits.
            Assert.Equal(entry.Modified!.Value.ToDateTimeOffset(), e.ModificationTime);
            Assert.Equal(PaxRecords.FormatTime(entry.Modified.Value), e.ExtendedAttributes["mtime"]);
            Assert.Null(reader.GetNextEntry());
            return true;
        });

    [Property(MaxTest = 300)]
    public Property Headers_are_whole_blocks_with_valid_checksums() =>
        Prop.ForAll(Entries(), entry =>
        {
            byte[] h = PaxEntryEncoder.EncodeHeader(entry);
            Assert.Equal(0, h.Length % 512);
            for (int at = 0; at < h.Length; at += 512)
            {
                var block = h.AsSpan(at, 512);
                if (!block[257..263].SequenceEqual("ustar\0"u8)) continue; // extended header data block
                int sum = 0;
                for (int i = 0; i < 512; i++) sum += i is >= 148 and < 156 ? ' ' : block[i];
                Assert.Equal(Convert.ToString(sum, 8).PadLeft(6, '0'), Encoding.ASCII.GetString(block.Slice(148, 6)));
            }
            return true;
        });

    [Fact]
    public void Plain_short_ascii_member_is_a_single_ustar_block()
    {
        var e = new PaxEntry("dir/file.txt", PaxEntryKind.File) { SizeBytes = 10 };
        var m = PaxEntryEncoder.Encode(e);
        Assert.Equal(512, m.Header.Length);
        Assert.Equal(1024, m.Layout.TotalBytes);
        Assert.Equal([new PaxDataSegment(0, 10, 512)], m.Layout.Segments);
        Assert.Equal((byte)'0', m.Header[156]);
        Assert.Equal("00000000012\0", Encoding.ASCII.GetString(m.Header, 124, 12));
    }

    [Fact]
    public void Size_beyond_ustar_range_goes_into_a_pax_size_record()
    {
        long size = 10L << 30;
        var m = PaxEntryEncoder.Encode(new PaxEntry("big", PaxEntryKind.File) { SizeBytes = size });
        var records = PaxRecords.Parse(m.Header.AsSpan(512, 512), 512);
        Assert.Contains(records, r => r.Key == "size" && Encoding.ASCII.GetString(r.Value) == size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1536, m.Layout.HeaderBytes); // x header, its records, ustar header
        Assert.Equal(1536 + size, m.Layout.TotalBytes);
    }

    [Fact]
    public void Sparse_layout_pads_every_range_to_a_block()
    {
        var m = PaxEntryEncoder.Encode(new PaxEntry("s", PaxEntryKind.File)
        {
            SizeBytes = 10_000,
            SparseMap = [new SparseSegment(0, 1), new SparseSegment(4096, 513)],
        });
        // x header + its records block, ustar block, one map block; data ranges of 512 and 1024 bytes.
        Assert.Equal(4 * 512, m.Header.Length);
        Assert.Equal([new PaxDataSegment(0, 1, 2048), new PaxDataSegment(4096, 513, 2560)], m.Layout.Segments);
        Assert.Equal(2048 + 512 + 1024, m.Layout.TotalBytes);
        Assert.Equal("3\n0\n1\n4096\n513\n10000\n0\n", Encoding.ASCII.GetString(m.Header, 1536, 23));
    }

    [Fact]
    public void Invalid_entries_are_refused()
    {
        Assert.Throws<ArgumentException>(() => PaxEntryEncoder.Encode(new PaxEntry("a/../b", PaxEntryKind.File)));
        Assert.Throws<ArgumentException>(() => PaxEntryEncoder.Encode(new PaxEntry("a", PaxEntryKind.Symlink)));
        Assert.Throws<ArgumentException>(() => PaxEntryEncoder.Encode(new PaxEntry("a", PaxEntryKind.Directory) { SizeBytes = 1 }));
        Assert.Throws<ArgumentException>(() => PaxEntryEncoder.Encode(new PaxEntry("a", PaxEntryKind.File) { Mode = 0x8000 }));
        Assert.Throws<ArgumentException>(() => PaxEntryEncoder.Encode(new PaxEntry("a", PaxEntryKind.File)
        {
            SizeBytes = 100,
            SparseMap = [new SparseSegment(50, 10), new SparseSegment(40, 5)],
        }));
        Assert.Throws<ArgumentException>(() => PaxEntryEncoder.Encode(new PaxEntry("a", PaxEntryKind.File)
        {
            SizeBytes = 100,
            SparseMap = [new SparseSegment(90, 20)],
        }));
    }

    [Theory]
    [InlineData(0, 0, "0")]
    [InlineData(5, 0, "5")]
    [InlineData(1, 500_000_000, "1.500000000")]
    [InlineData(-2, 250_000_000, "-1.750000000")]
    [InlineData(-1, 0, "-1")]
    public void Times_are_formatted_as_signed_decimals(long seconds, int nanos, string expected) =>
        Assert.Equal(expected, PaxRecords.FormatTime(new MapTime(seconds, nanos)));

    [Property(MaxTest = 500)]
    public Property Pax_records_round_trip(NonEmptyString[] keys, byte[][] values) =>
        Prop.ForAll(Gen.Constant(0).ToArbitrary(), _ =>
        {
            var w = new ArrayBufferWriter<byte>();
            var expected = new List<KeyValuePair<string, byte[]>>();
            for (int i = 0; i < Math.Min(keys.Length, values.Length); i++)
            {
                string k = new(keys[i].Get.Where(c => c is not ('=' or '\n' or '\0') && !char.IsSurrogate(c)).ToArray());
                if (k.Length == 0 || values[i] is null) continue;
                PaxRecords.Append(w, k, values[i]);
                expected.Add(new(k, values[i]));
            }
            var parsed = PaxRecords.Parse(w.WrittenSpan, 0);
            return parsed.Count == expected.Count && parsed.Zip(expected).All(p => p.First.Key == p.Second.Key && p.First.Value.SequenceEqual(p.Second.Value));
        });

    [Property(MaxTest = 10_000)]
    public void Pax_record_parser_survives_arbitrary_bytes(byte[] body)
    {
        try { PaxRecords.Parse(body, 1000); }
        catch (CorruptStructureException e) { Assert.InRange(e.DeviceOffset, 1000, 1000 + body.Length); }
    }

    [Fact]
    public void NTFS_metadata_is_carried_as_ntfs3g_xattrs_that_plain_tar_ignores_silently()
    {
        Requires.Tool("tar");
        var entry = new PaxEntry("win/file.txt", PaxEntryKind.File)
        {
            SizeBytes = 3,
            NtfsAttributes = 0x20,
            NtfsCreated = MapTime.FromFileTime(133_000_000_000_000_000),
        };
        var m = PaxEntryEncoder.Encode(entry);
        var records = PaxRecords.Parse(m.Header.AsSpan(512, (int)m.Layout.HeaderBytes - 1024), 512).ToDictionary(r => r.Key, r => r.Value);
        Assert.Equal(new byte[] { 0, 0, 0, 0x20 }, records["SCHILY.xattr.system.ntfs_attrib_be"]);
        Assert.Equal(BitConverter.GetBytes(133_000_000_000_000_000L).Reverse(), records["SCHILY.xattr.system.ntfs_crtime_be"]);
        string tar = scratch["n.tar"];
        File.WriteAllBytes(tar, Member(entry, (byte)'z'));
        Directory.CreateDirectory(scratch["out"]);
        foreach (string[] args in (string[][])[["-xf", tar, "-C", scratch["out"]], ["--xattrs", "-xf", tar, "-C", scratch["out"]]])
        {
            var r = Tool.TryRun("tar", args);
            Assert.Equal(0, r.ExitCode);
            Assert.Equal("", r.Stderr);
        }
        Assert.Equal("zzz", File.ReadAllText(scratch["out/win/file.txt"]));
    }

    [Fact]
    public void Sparse_file_that_starts_and_ends_with_data_is_restored_by_GNU_tar()
    {
        Requires.Tool("tar");
        byte[] head = TestData.Random(7, 700), tail = TestData.Random(8, 1234);
        const long size = 1L << 20;
        var entry = new PaxEntry("s2.img", PaxEntryKind.File)
        {
            SizeBytes = size,
            SparseMap = [new SparseSegment(0, head.Length), new SparseSegment(size - tail.Length, tail.Length)],
        };
        var m = PaxEntryEncoder.Encode(entry);
        var bytes = new byte[m.Layout.TotalBytes + PaxLayout.EndOfArchiveBytes];
        m.Header.CopyTo(bytes, 0);
        bytes.AsSpan((int)m.Layout.HeaderBytes, (int)(m.Layout.TotalBytes - m.Layout.HeaderBytes)).Fill(0xEE); // stale padding
        head.CopyTo(bytes, (int)m.Layout.Segments[0].MemberOffsetBytes);
        tail.CopyTo(bytes, (int)m.Layout.Segments[1].MemberOffsetBytes);
        File.WriteAllBytes(scratch["s.tar"], bytes);
        Directory.CreateDirectory(scratch["o"]);
        Tool.Run("tar", "-xf", scratch["s.tar"], "-C", scratch["o"]);
        var expected = new byte[size];
        head.CopyTo(expected, 0);
        tail.CopyTo(expected, size - tail.Length);
        Assert.Equal(expected, File.ReadAllBytes(scratch["o/s2.img"]));
    }
}
