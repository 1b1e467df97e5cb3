using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Pax;
using Offhost.Testing;

namespace Offhost.Formats.Tape.Tests;

public class PaxHeaderReaderTests
{
    /// <summary>An archive of the given entries with their data (pattern bytes) and the end marker.</summary>
    static byte[] Archive(params PaxEntry[] entries)
    {
        var output = new MemoryStream();
        foreach (var e in entries)
        {
            var encoded = PaxEntryEncoder.Encode(e);
            long start = output.Length;
            output.Write(encoded.Header);
            foreach (var seg in encoded.Layout.Segments)
            {
                output.Position = start + seg.MemberOffsetBytes;
                output.Write(Pattern(seg.FileOffsetBytes, seg.LengthBytes));
            }
            output.SetLength(start + encoded.Layout.TotalBytes);
            output.Position = output.Length;
        }
        output.Write(PaxLayout.EncodeEndOfArchive());
        return output.ToArray();
    }

    static byte[] Pattern(long offset, long length)
    {
        var b = new byte[length];
        for (int i = 0; i < b.Length; i++) b[i] = (byte)((offset + i) * 31 % 251 + 1);
        return b;
    }

    static readonly PaxEntry[] Samples =
    [
        new("plain.txt", PaxEntryKind.File) { SizeBytes = 1000, Mode = 0x1ED, Uid = 1000, Gid = 100, Modified = new MapTime(1_700_000_000, 123_456_789) },
        new("dir/", PaxEntryKind.Directory) { Mode = 0x1ED, Modified = new MapTime(5, 0) },
        new("dir/" + new string('ü', 120) + "/naïve ☃.bin", PaxEntryKind.File) { SizeBytes = 513, Accessed = new MapTime(-2, 250_000_000) },
        new("dir/sparse.img", PaxEntryKind.File) { SizeBytes = 10 << 20, SparseMap = [new(4096, 100), new(1 << 20, 8192)] },
        new("dir/link", PaxEntryKind.Symlink) { LinkTarget = "../" + new string('x', 200) },
        new("dir/hard", PaxEntryKind.HardLink) { LinkTarget = "plain.txt" },
        new("dev/fifo", PaxEntryKind.Fifo) { Mode = 0x1A4 },
        new("dev/null", PaxEntryKind.CharDevice) { Mode = 0x1B6, Device = new DeviceNumber(1, 3) },
        new("dev/huge", PaxEntryKind.BlockDevice) { Device = new DeviceNumber(uint.MaxValue, 3_000_000) },
        new("dev/sock", PaxEntryKind.Socket) { Mode = 0x1ED },
        new("x", PaxEntryKind.File)
        {
            SizeBytes = 0, Uid = 5_000_000, NtfsAttributes = 0x20,
            Xattrs = new Dictionary<string, ReadOnlyMemory<byte>> { ["user.a=b%c"] = new byte[] { 0, 1, 2, 10 }, ["user.Zone.Identifier"] = "[ZoneTransfer]"u8.ToArray() },
        },
    ];

    [Fact]
    public void Decodes_what_the_encoder_writes()
    {
        byte[] archive = Archive(Samples);
        var members = PaxHeaderReader.ReadAll(archive);
        Assert.Equal(Samples.Length, members.Count);
        long offset = 0;
        for (int i = 0; i < Samples.Length; i++)
        {
            var e = Samples[i];
            var m = members[i];
            var layout = PaxEntryEncoder.Encode(e).Layout;
            Assert.Equal(e.Path.TrimEnd('/'), m.Path);
            Assert.Equal(e.Kind, m.Kind);
            Assert.Equal(offset, m.ArchiveOffsetBytes);
            Assert.Equal(layout.HeaderBytes, m.Layout.HeaderBytes);
            Assert.Equal(layout.TotalBytes, m.Layout.TotalBytes);
            Assert.Equal(layout.Segments, m.Layout.Segments);
            Assert.Equal(e.SizeBytes, m.SizeBytes);
            Assert.Equal(e.SparseMap is not null, m.Sparse);
            Assert.Equal(e.Mode, m.Mode);
            Assert.Equal(e.Uid, m.Uid);
            Assert.Equal(e.LinkTarget, m.LinkTarget);
            Assert.Equal(e.Device, m.Device);
            if (e.Modified is { } t) Assert.Equal(t, m.Modified);
            Assert.Equal(e.Accessed, m.Accessed);
            foreach (var (name, value) in e.Xattrs) Assert.Equal(value.ToArray(), m.Xattrs[name]);
            if (e.NtfsAttributes is not null) Assert.Equal(new byte[] { 0, 0, 0, 0x20 }, m.Xattrs[PaxEntryEncoder.NtfsAttributesXattr]);
            offset += m.Layout.TotalBytes;
        }
    }

    [Fact]
    public void Reads_what_gnu_tar_writes_including_sparse_1_0()
    {
        Requires.Tool("tar");
        using var scratch = new Scratch("paxreader-gnutar");
        Tool.Bash($"""
            cd '{scratch.Dir}' && mkdir -p src/sub && cd src
            head -c 3000 /dev/urandom > sub/a && truncate -s 5M sparse && printf 'abc' | dd of=sparse bs=1 seek=1048576 conv=notrunc 2>/dev/null
            ln -s sub/a sym && ln sub/a hard && setfattr -n user.k -v v sub/a 2>/dev/null || true
            tar --format=pax --sparse --sparse-version=1.0 --xattrs -cf ../a.tar sub sub/a sparse sym hard
            """);
        var members = PaxHeaderReader.ReadAll(File.ReadAllBytes(scratch["a.tar"]));
        string listed = Tool.Run("tar", "-tf", scratch["a.tar"]);
        Assert.Equal(listed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(n => n.TrimEnd('/')), members.Select(m => m.Path));
        var sparse = members.Single(m => m.Path == "sparse");
        Assert.True(sparse.Sparse);
        Assert.Equal(5L << 20, sparse.SizeBytes);
        Assert.Contains(sparse.Layout.Segments, s => s.FileOffsetBytes <= 1048576 && s.FileOffsetBytes + s.LengthBytes >= 1048579);
        Assert.Equal(PaxEntryKind.Symlink, members.Single(m => m.Path == "sym").Kind);
        Assert.Equal("sub/a", members.Single(m => m.Path == "sym").LinkTarget);
    }

    [Fact]
    public void Missing_end_marker_and_damaged_checksum_are_reported_with_offsets()
    {
        byte[] archive = Archive(Samples[0]);
        var truncated = archive.AsSpan(0, archive.Length - PaxLayout.EndOfArchiveBytes).ToArray();
        Assert.Throws<CorruptStructureException>(() => PaxHeaderReader.ReadAll(truncated));
        archive[10] ^= 1;
        var e = Assert.Throws<CorruptStructureException>(() => PaxHeaderReader.ReadAll(archive));
        Assert.Contains("checksum", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bounds_lengths_before_allocating()
    {
        // An extended header claiming 1 TiB must fail at once, not allocate.
        var block = new byte[PaxLayout.BlockBytes * 4];
        var header = PaxEntryEncoder.EncodeHeader(new PaxEntry(new string('n', 150) + "é", PaxEntryKind.File));
        header.AsSpan(0, 512).CopyTo(block);
        Encoding.ASCII.GetBytes("17777777777\0").CopyTo(block, 124);
        FixChecksum(block.AsSpan(0, 512));
        var e = Assert.Throws<CorruptStructureException>(() => PaxHeaderReader.ReadAll(block));
        Assert.Contains("bound", e.Message, StringComparison.Ordinal);
    }

    static void FixChecksum(Span<byte> block)
    {
        block.Slice(148, 8).Fill((byte)' ');
        int sum = 0;
        foreach (byte b in block) sum += b;
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(block[148..]);
    }

    [Property(MaxTest = 2000)]
    public Property Arbitrary_bytes_give_members_or_a_corrupt_structure_error() =>
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            var input = new byte[PaxLayout.RoundUpToBlock(bytes.Length) + 1024];
            bytes.CopyTo(input, 0);
            try { PaxHeaderReader.ReadAll(input); }
            catch (CorruptStructureException) { }
        });

    [Property(MaxTest = 1000)]
    public Property Mutated_archives_give_members_or_a_corrupt_structure_error() =>
        Prop.ForAll(ArbMap.Default.ArbFor<int>(), ArbMap.Default.ArbFor<byte>(), ArbMap.Default.ArbFor<bool>(), (position, value, fixSum) =>
        {
            byte[] archive = Archive(Samples);
            int at = (int)((uint)position % archive.Length);
            archive[at] = value;
            // With the checksum repaired the mutation reaches the field decoders instead of stopping at the checksum.
            if (fixSum)
            {
                foreach (var m in SafeMembers(Archive(Samples)))
                {
                    long blockStart = m.ArchiveOffsetBytes;
                    for (long b = blockStart; b < m.ArchiveOffsetBytes + m.Layout.HeaderBytes && b + 512 <= archive.Length; b += 512)
                        if (at >= b && at < b + 512 && archive.AsSpan((int)b + 257, 5).SequenceEqual("ustar"u8)) FixChecksum(archive.AsSpan((int)b, 512));
                }
            }
            try
            {
                foreach (var m in PaxHeaderReader.ReadAll(archive))
                {
                    Assert.True(m.Layout.TotalBytes >= m.Layout.HeaderBytes);
                    foreach (var s in m.Layout.Segments) Assert.True(s.MemberOffsetBytes + s.LengthBytes <= m.Layout.TotalBytes);
                }
            }
            catch (CorruptStructureException) { }
        });

    static List<PaxMemberHeader> SafeMembers(byte[] archive) => PaxHeaderReader.ReadAll(archive);

    [Property(MaxTest = 300)]
    public Property Generated_names_and_sizes_round_trip() =>
        Prop.ForAll(ArbMap.Default.ArbFor<NonEmptyString>(), ArbMap.Default.ArbFor<ushort>(), ArbMap.Default.ArbFor<bool>(), (name, size, sparse) =>
        {
            string path = new string(name.Get.Where(c => c is not ('\0' or '/') && !char.IsSurrogate(c)).ToArray());
            if (path.Length == 0 || path is "." or "..") path = "f";
            var entry = new PaxEntry(path, PaxEntryKind.File)
            {
                SizeBytes = size + 4096L,
                SparseMap = sparse ? [new SparseSegment(1000, size + 1L)] : null,
            };
            var m = Assert.Single(PaxHeaderReader.ReadAll(Archive(entry)));
            var layout = PaxEntryEncoder.Encode(entry).Layout;
            return m.Path == path && m.SizeBytes == entry.SizeBytes && m.Layout.Segments.SequenceEqual(layout.Segments) && m.Layout.TotalBytes == layout.TotalBytes;
        });
}
