using System.Buffers.Binary;
using System.Globalization;
using System.Text.RegularExpressions;
using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Io.Block;
using Offhost.Testing;

namespace Offhost.Formats.Ext4.Tests;

/// <summary>
/// Real images damaged on purpose. A damaged superblock refuses the volume; a damaged inode, tree, directory or
/// attribute block makes that one entry unmappable with the structure and absolute byte offset, and the rest is mapped.
/// </summary>
public sealed class DamagedVolumeTests(DamagedVolumeFixture fx) : IClassFixture<DamagedVolumeFixture>
{
    static byte[] U16(int v) { var b = new byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)v); return b; }
    static byte[] U32(long v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)v); return b; }

    static List<MapEntry> Map(string image)
    {
        using var img = new Ext4TestImage(image);
        return img.Map();
    }

    /// <summary>Asserts exactly <paramref name="path"/> is unmappable with a message naming the structure and offset, and that /other/keep is still mapped.</summary>
    static MapEntry AssertOnlyUnmappable(List<MapEntry> entries, string path, string structure, long offset, string reasonPart)
    {
        var bad = Assert.Single(entries, e => e.Kind == MapEntryKind.Unmappable);
        Assert.Equal(path, bad.Path);
        Assert.Contains($"{structure} at byte offset {offset}", bad.Error, StringComparison.Ordinal);
        Assert.Contains(reasonPart, bad.Error, StringComparison.Ordinal);
        var keep = Assert.Single(entries, e => e.Path == "/other/keep");
        Assert.Equal(MapEntryKind.File, keep.Kind);
        return bad;
    }

    static long Block(string image, string request, string pattern)
    {
        var m = Regex.Match(Ext4VolumeBuilder.Debugfs(image, request), pattern);
        Assert.True(m.Success, $"debugfs {request}: no match for {pattern}");
        return long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Superblock_with_bad_magic_is_refused_naming_its_offset()
    {
        string img = fx.Copy(fx.Plain);
        Ext4VolumeBuilder.Patch(img, 1024 + 0x38, U16(0x1234));
        Assert.False(Ext4Volume.Probe(File.ReadAllBytes(img).AsSpan(0, 2048)));
        using var t = new Ext4TestImage(img);
        var e = Assert.Throws<CorruptStructureException>(() => t.Open());
        Assert.Equal("ext4_super_block", e.Structure);
        Assert.Equal(1024, e.DeviceOffset);
        Assert.Contains("magic", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Superblock_offset_is_absolute_on_a_partitioned_device()
    {
        string img = fx.Copy(fx.Plain);
        Ext4VolumeBuilder.Patch(img, 1024 + 0x18, U32(9)); // s_log_block_size 9 → 512 KiB blocks
        string disk = fx.Scratch[$"{Guid.NewGuid():N}.disk"];
        Tool.Bash($"truncate -s 40M '{disk}' && dd if='{img}' of='{disk}' bs=1M seek=1 conv=notrunc,sparse status=none");
        using var t = new Ext4TestImage(disk, 1L << 20, 32L << 20);
        var e = Assert.Throws<CorruptStructureException>(() => t.Open(1));
        Assert.Equal((1L << 20) + 1024, e.DeviceOffset);
        Assert.Contains("s_log_block_size", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Superblock_checksum_mismatch_is_refused()
    {
        string img = fx.Copy(fx.Csum);
        Ext4VolumeBuilder.Patch(img, 1024 + 0x78, "tampered"u8);
        using var t = new Ext4TestImage(img);
        var e = Assert.Throws<CorruptStructureException>(() => t.Open());
        Assert.Contains("ext4_super_block at byte offset 1024: checksum mismatch", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Journal_needing_recovery_is_mapped_with_a_warning()
    {
        string img = fx.Copy(fx.Csum);
        Ext4VolumeBuilder.Debugfs(img, "feature needs_recovery", write: true);
        using var t = new Ext4TestImage(img);
        var mapper = t.Open();
        Assert.Contains("journal needs recovery (needs_recovery set): metadata may be behind", mapper.Volume.Warnings);
        Assert.Contains(mapper.Entries(TestContext.Current.CancellationToken), e => e.Path == "/other/keep" && e.Kind == MapEntryKind.File);
    }

    [Fact]
    public void External_journal_device_is_refused()
    {
        string img = fx.Scratch[$"{Guid.NewGuid():N}.journal"];
        using (var f = new FileStream(img, FileMode.Create)) f.SetLength(8L << 20);
        Tool.RunChecked("mke2fs", ["-q", "-F", "-O", "journal_dev", "-b", "4096", img], stdin: null);
        using var t = new Ext4TestImage(img);
        var e = Assert.Throws<CorruptStructureException>(() => t.Open());
        Assert.Contains("journal_dev", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_incompatible_feature_is_refused_by_name()
    {
        string img = fx.Copy(fx.Plain);
        using (var f = new FileStream(img, FileMode.Open))
        {
            var b = new byte[4];
            f.Position = 1024 + 0x60; f.ReadExactly(b);
            uint v = BinaryPrimitives.ReadUInt32LittleEndian(b) | 0x800;
            f.Position = 1024 + 0x60; f.Write(U32(v));
        }
        using var t = new Ext4TestImage(img);
        var e = Assert.Throws<CorruptStructureException>(() => t.Open());
        Assert.Contains("FEATURE_I11", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Group_descriptor_checksum_mismatch_makes_its_inodes_unmappable()
    {
        string img = fx.Copy(fx.Csum);
        Ext4VolumeBuilder.Patch(img, 4096 + 0xC, U16(1)); // bg_free_blocks_count_lo of group 0, checksum not updated
        var entries = Map(img);
        var root = Assert.Single(entries);
        Assert.Equal(MapEntryKind.Unmappable, root.Kind);
        Assert.Contains("ext4_group_desc 0 at byte offset 4096: checksum mismatch", root.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Group_descriptor_with_inode_table_outside_the_volume_is_reported()
    {
        string img = fx.Copy(fx.Plain);
        Ext4VolumeBuilder.Patch(img, 4096 + 0x8, U32(0x7FFFFFF0));
        var root = Assert.Single(Map(img));
        Assert.Contains("ext4_group_desc 0 at byte offset 4096: bg_inode_table 2147483632", root.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Inode_checksum_mismatch_makes_only_that_file_unmappable()
    {
        string img = fx.Copy(fx.Csum);
        long inode = Ext4VolumeBuilder.InodeOffset(img, "/one-extent");
        long number = Block(img, "stat /one-extent", @"Inode: (\d+)");
        Ext4VolumeBuilder.Patch(img, inode + 0x10, U32(12345)); // i_mtime
        AssertOnlyUnmappable(Map(img), "/one-extent", $"inode {number}", inode, "inode checksum mismatch");
    }

    [Theory]
    [InlineData(0, 0x1234, "bad magic 0x1234")]
    [InlineData(2, 5, "eh_entries 5 exceeds eh_max 4")]
    [InlineData(6, 9, "eh_depth 9 exceeds the maximum of 5")]
    public void Extent_header_damage_makes_the_file_unmappable(int fieldOffset, int value, string reason)
    {
        string img = fx.Copy(fx.Plain);
        long iblock = Ext4VolumeBuilder.InodeOffset(img, "/one-extent") + 0x28;
        Ext4VolumeBuilder.Patch(img, iblock + fieldOffset, U16(value));
        AssertOnlyUnmappable(Map(img), "/one-extent", "ext4_extent_header", iblock, reason);
    }

    [Fact]
    public void Extent_past_the_end_of_the_volume_is_reported()
    {
        string img = fx.Copy(fx.Plain);
        long iblock = Ext4VolumeBuilder.InodeOffset(img, "/one-extent") + 0x28;
        Ext4VolumeBuilder.Patch(img, iblock + 12 + 8, U32(0x7FFFFF00));
        AssertOnlyUnmappable(Map(img), "/one-extent", "ext4_extent", iblock + 12, "outside the volume");
    }

    [Fact]
    public void Depth_mismatch_between_index_and_child_is_reported()
    {
        string img = fx.Copy(fx.Plain);
        long iblock = Ext4VolumeBuilder.InodeOffset(img, "/pieces") + 0x28;
        long leaf = Block(img, "ex /pieces", @"(?m)^\s*0/\s*1\s+1/\s*1\s+\d+\s*-\s*\d+\s+(\d+)");
        Ext4VolumeBuilder.Patch(img, leaf * 4096 + 6, U16(1));
        AssertOnlyUnmappable(Map(img), "/pieces", "ext4_extent_header", leaf * 4096, "eh_depth 1 where the parent index requires 0");
    }

    [Fact]
    public void Cycle_in_an_extent_tree_is_caught()
    {
        string img = fx.Copy(fx.Plain);
        long iblock = Ext4VolumeBuilder.InodeOffset(img, "/pieces") + 0x28;
        long leaf = Block(img, "ex /pieces", @"(?m)^\s*0/\s*1\s+1/\s*1\s+\d+\s*-\s*\d+\s+(\d+)");
        // Root claims depth 2; the leaf becomes an index node (depth 1) whose first entry points back at itself.
        Ext4VolumeBuilder.Patch(img, iblock + 6, U16(2));
        Ext4VolumeBuilder.Patch(img, leaf * 4096 + 6, U16(1));
        Ext4VolumeBuilder.Patch(img, leaf * 4096 + 12, [.. U32(0), .. U32(leaf), .. U16(0), .. U16(0)]);
        AssertOnlyUnmappable(Map(img), "/pieces", "ext4_extent_idx", leaf * 4096 + 12, "referenced twice");
    }

    [Fact]
    public void Cycle_in_indirect_blocks_is_caught()
    {
        string img = fx.Copy(fx.Ext2);
        long dind = Block(img, "stat /indirect", @"\(DIND\):(\d+)");
        Ext4VolumeBuilder.Patch(img, dind * 1024, U32(dind));
        AssertOnlyUnmappable(Map(img), "/indirect", "indirect block pointer", dind * 1024, "referenced twice");
    }

    [Fact]
    public void Directory_record_running_past_its_block_makes_the_directory_unmappable()
    {
        string img = fx.Copy(fx.Plain);
        long block = Block(img, "blocks /dir", @"(\d+)");
        Ext4VolumeBuilder.Patch(img, block * 4096 + 12 + 4, U16(0xFFF0)); // rec_len of ".."
        var entries = Map(img);
        AssertOnlyUnmappable(entries, "/dir", "ext4_dir_entry_2", block * 4096 + 12, "runs past the end of the directory block");
        Assert.DoesNotContain(entries, e => e.Path.StartsWith("/dir/", StringComparison.Ordinal));
    }

    [Fact]
    public void Xattr_value_running_past_its_block_makes_the_file_unmappable()
    {
        string img = fx.Copy(fx.Plain);
        long acl = Block(img, "stat /xattr-file", @"File ACL: (\d+)");
        Assert.True(acl > 0);
        Ext4VolumeBuilder.Patch(img, acl * 4096 + 32 + 2, U16(0xF000)); // e_value_offs of the first entry
        AssertOnlyUnmappable(Map(img), "/xattr-file", "ext4_xattr_entry", acl * 4096 + 32, "runs past its block");
    }

    [Fact]
    public void Undamaged_copies_map_cleanly()
    {
        foreach (var image in new[] { fx.Plain, fx.Csum, fx.Ext2 })
        {
            Assert.True(Ext4Volume.Probe(File.ReadAllBytes(image).AsSpan(0, 2048)));
            var entries = Map(image);
            Assert.DoesNotContain(entries, e => e.Kind == MapEntryKind.Unmappable);
            Assert.Contains(entries, e => e.Path == "/xattr-file" && e.Xattrs["user.big"].Length == 500);
        }
    }
}
