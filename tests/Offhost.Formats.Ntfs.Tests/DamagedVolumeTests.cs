using System.Buffers.Binary;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;

namespace Offhost.Formats.Ntfs.Tests;

[Trait("Category", "Integration")]
public sealed class DamagedVolumeTests(DamagedVolumeFixture fx) : IClassFixture<DamagedVolumeFixture>
{
    MapEntry Single(List<MapEntry> entries, ulong id) => entries.Single(e => e.Id == id);

    void AssertOthersMapped(List<MapEntry> entries, params ulong[] damaged)
    {
        var expectOk = fx.Clean.Where(e => !damaged.Contains(e.Id)).Select(e => e.Id).ToHashSet();
        var ok = entries.Where(e => e.Kind != MapEntryKind.Unmappable).Select(e => e.Id).ToHashSet();
        Assert.Subset(ok, expectOk);
        Assert.Equal(fx.Clean.First(e => e.Path == "/bystander.txt").Streams[0].ResidentData!.Value.ToArray(),
            entries.Single(e => e.Path == "/bystander.txt").Streams[0].ResidentData!.Value.ToArray());
    }

    [Fact]
    public void Zero_filled_image_is_rejected_with_structure_and_offset()
    {
        var e = Assert.Throws<CorruptStructureException>(() => NtfsVolume.OpenMapper(DamagedVolumeFixture.Slice(new byte[1 << 20]), null));
        Assert.Contains("NTFS boot sector at byte offset", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_image_is_rejected()
    {
        var e = Assert.Throws<CorruptStructureException>(() => NtfsVolume.OpenMapper(DamagedVolumeFixture.Slice(Offhost.Testing.TestData.Random(7, 1 << 20)), null));
        Assert.Contains("byte offset", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_image_is_rejected()
    {
        var half = fx.Image.AsSpan(0, fx.Image.Length / 2).ToArray();
        var e = Assert.Throws<CorruptStructureException>(() => NtfsVolume.OpenMapper(DamagedVolumeFixture.Slice(half), null));
        Assert.Contains("NTFS boot sector at byte offset", e.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        var tiny = fx.Image.AsSpan(0, 300).ToArray();
        Assert.Throws<CorruptStructureException>(() => NtfsVolume.OpenMapper(DamagedVolumeFixture.Slice(tiny), null));
    }

    [Fact]
    public void Damaged_primary_boot_sector_falls_back_to_the_backup()
    {
        var image = (byte[])fx.Image.Clone();
        image.AsSpan(0, 512).Clear();
        var mapper = NtfsVolume.OpenMapper(DamagedVolumeFixture.Slice(image), 2);
        Assert.Equal("Damage", mapper.Volume.Label);
        Assert.Equal(2, mapper.Volume.Partition);
        Assert.Contains(mapper.Volume.Warnings, w => w.Contains("backup boot sector", StringComparison.Ordinal));
        Assert.Equal(fx.Clean.Count, mapper.Entries(CancellationToken.None).Count());
    }

    [Fact]
    public void Torn_write_makes_only_that_file_unmappable()
    {
        ulong id = fx.Id("/victim.txt");
        long at = fx.RecordOffsets[id];
        var image = (byte[])fx.Image.Clone();
        image[at + 1022] ^= 0xFF;
        var entries = DamagedVolumeFixture.MapAll(image);
        var e = Single(entries, id);
        Assert.Equal(MapEntryKind.Unmappable, e.Kind);
        Assert.Contains($"FILE record {id} at byte offset {at + 1022}", e.Error, StringComparison.Ordinal);
        Assert.Contains("update sequence", e.Error, StringComparison.Ordinal);
        AssertOthersMapped(entries, id);
    }

    [Fact]
    public void Attribute_length_past_the_record_end_is_reported()
    {
        ulong id = fx.Id("/victim.txt");
        int attrAt = 0;
        var image = fx.PatchRecord(id, rec =>
        {
            attrAt = DamagedVolumeFixture.FindAttribute(rec, 0x80, out _);
            BinaryPrimitives.WriteInt32LittleEndian(rec.AsSpan(attrAt + 4), 0x2000);
        });
        var entries = DamagedVolumeFixture.MapAll(image);
        var e = Single(entries, id);
        Assert.Equal(MapEntryKind.Unmappable, e.Kind);
        Assert.Contains($"FILE record {id} at byte offset {fx.RecordOffsets[id] + attrAt + 4}", e.Error, StringComparison.Ordinal);
        Assert.Contains("past the record end", e.Error, StringComparison.Ordinal);
        AssertOthersMapped(entries, id);
    }

    static int FirstRunOffsetField(byte[] rec, out int attrAt, out int mpAt, out int header)
    {
        attrAt = DamagedVolumeFixture.FindAttribute(rec, 0x80, out _);
        Assert.Equal(1, rec[attrAt + 8]);
        mpAt = attrAt + BinaryPrimitives.ReadUInt16LittleEndian(rec.AsSpan(attrAt + 0x20));
        header = rec[mpAt];
        return mpAt + 1 + (header & 0xF);
    }

    [Fact]
    public void Runlist_outside_the_volume_is_reported()
    {
        ulong id = fx.Id("/two-runs.bin");
        int mpAt = 0;
        var image = fx.PatchRecord(id, rec =>
        {
            int off = FirstRunOffsetField(rec, out _, out mpAt, out int header);
            int size = header >> 4;
            for (int i = 0; i < size; i++) rec[off + i] = 0xFF;
            rec[off + size - 1] = 0x7F;
        });
        var entries = DamagedVolumeFixture.MapAll(image);
        var e = Single(entries, id);
        Assert.Equal(MapEntryKind.Unmappable, e.Kind);
        Assert.Contains($"runlist at byte offset {fx.RecordOffsets[id] + mpAt}", e.Error, StringComparison.Ordinal);
        Assert.Contains("outside the volume", e.Error, StringComparison.Ordinal);
        AssertOthersMapped(entries, id);
    }

    [Fact]
    public void Overlapping_runs_are_reported()
    {
        ulong id = fx.Id("/two-runs.bin");
        Assert.True(fx.Clean.Single(e => e.Id == id).Streams[0].Extents.Count >= 2, "fixture file has a single extent");
        int attrAt = 0;
        var image = fx.PatchRecord(id, rec =>
        {
            FirstRunOffsetField(rec, out attrAt, out int mpAt, out int header);
            int second = mpAt + 1 + (header & 0xF) + (header >> 4);
            int h2 = rec[second];
            Assert.NotEqual(0, h2);
            // A zero delta puts the second run on top of the first.
            for (int i = 0; i < (h2 >> 4); i++) rec[second + 1 + (h2 & 0xF) + i] = 0;
        });
        var entries = DamagedVolumeFixture.MapAll(image);
        var e = Single(entries, id);
        Assert.Equal(MapEntryKind.Unmappable, e.Kind);
        Assert.Contains($"FILE record {id} at byte offset {fx.RecordOffsets[id] + attrAt}", e.Error, StringComparison.Ordinal);
        Assert.Contains("overlap", e.Error, StringComparison.Ordinal);
        AssertOthersMapped(entries, id);
    }

    [Fact]
    public void Directory_parent_loop_is_reported_and_mapping_goes_on()
    {
        ulong a = fx.Id("/loopA"), b = fx.Id("/loopA/loopB"), inner = fx.Id("/loopA/loopB/inner.txt");
        var bEntry = fx.Clean.Single(e => e.Id == b);
        var image = fx.PatchRecord(a, rec =>
        {
            int at = DamagedVolumeFixture.FindAttribute(rec, 0x30, out _);
            int value = at + BinaryPrimitives.ReadUInt16LittleEndian(rec.AsSpan(at + 0x14));
            BinaryPrimitives.WriteUInt64LittleEndian(rec.AsSpan(value), ((ulong)bEntry.Sequence << 48) | b);
        });
        var entries = DamagedVolumeFixture.MapAll(image);
        foreach (var id in new[] { a, b, inner })
        {
            var e = Single(entries, id);
            Assert.Equal(MapEntryKind.Unmappable, e.Kind);
            Assert.Contains("loops", e.Error, StringComparison.Ordinal);
            Assert.Matches(@"FILE record \d+ at byte offset \d+", e.Error);
        }
        AssertOthersMapped(entries, a, b, inner);
    }

    /// <summary>Image copy with one $ATTRIBUTE_LIST entry (not for the base record) re-pointed at <paramref name="reference"/>;
    /// returns the device offset of the list's value.</summary>
    byte[] RepointAttributeListEntry(ulong id, ulong reference, out long listAt)
    {
        var image = (byte[])fx.Image.Clone();
        long recAt = fx.RecordOffsets[id];
        var rec = image.AsSpan((int)recAt, fx.RecordBytes).ToArray();
        Assert.True(FileRecord.ApplyFixups(rec, id, recAt));
        int at = DamagedVolumeFixture.FindAttribute(rec, 0x20, out _);
        if (rec[at + 8] == 0)
        {
            int valueAt = at + BinaryPrimitives.ReadUInt16LittleEndian(rec.AsSpan(at + 0x14));
            int length = BinaryPrimitives.ReadInt32LittleEndian(rec.AsSpan(at + 0x10));
            var victim = AttributeListEntry.ReadAll(rec.AsSpan(valueAt, length), 0).First(x => FileRecord.SplitReference(x.FileReference).Record != id);
            BinaryPrimitives.WriteUInt64LittleEndian(rec.AsSpan(valueAt + victim.OffsetInList + 0x10), reference);
            DamagedVolumeFixture.Refixup(rec);
            rec.CopyTo(image.AsSpan((int)recAt));
            listAt = recAt + valueAt;
            return image;
        }
        // Non-resident list: patch it in its cluster.
        var runs = new List<DataRun>();
        int mp = at + BinaryPrimitives.ReadUInt16LittleEndian(rec.AsSpan(at + 0x20));
        Runlist.Decode(rec.AsSpan(mp, rec.Length - mp), 0, long.MaxValue, 0, runs);
        long size = BinaryPrimitives.ReadInt64LittleEndian(rec.AsSpan(at + 0x30));
        listAt = runs[0].Lcn * 4096;
        Assert.True(size <= runs[0].LengthClusters * 4096);
        var entries = AttributeListEntry.ReadAll(image.AsSpan((int)listAt, (int)size), 0);
        var target = entries.First(x => FileRecord.SplitReference(x.FileReference).Record != id);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan((int)listAt + target.OffsetInList + 0x10), reference);
        return image;
    }

    [Fact]
    public void Attribute_list_entry_pointing_at_a_missing_record_is_reported()
    {
        ulong id = fx.Id("/fragmented.bin");
        var image = RepointAttributeListEntry(id, (1UL << 48) | 900_000, out long listAt);
        var mapped = DamagedVolumeFixture.MapAll(image);
        var e = Single(mapped, id);
        Assert.Equal(MapEntryKind.Unmappable, e.Kind);
        Assert.Matches(@"\$ATTRIBUTE_LIST entry at byte offset \d+", e.Error);
        long reported = long.Parse(System.Text.RegularExpressions.Regex.Match(e.Error!, @"byte offset (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(reported, listAt, listAt + 4096);
        Assert.Contains("900000", e.Error, StringComparison.Ordinal);
        AssertOthersMapped(mapped, id);

        // The same with a record inside the MFT that is not an extension of this file.
        ulong bystander = fx.Id("/bystander.txt");
        image = RepointAttributeListEntry(id, (1UL << 48) | bystander, out _);
        e = Single(DamagedVolumeFixture.MapAll(image), id);
        Assert.Equal(MapEntryKind.Unmappable, e.Kind);
        Assert.Contains("not an extension record", e.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Encrypted_stream_is_flagged_and_keeps_its_raw_extents()
    {
        ulong id = fx.Id("/two-runs.bin");
        var image = fx.PatchRecord(id, rec =>
        {
            int at = DamagedVolumeFixture.FindAttribute(rec, 0x80, out _);
            BinaryPrimitives.WriteUInt16LittleEndian(rec.AsSpan(at + 0x0C), 0x4000);
        });
        var s = Single(DamagedVolumeFixture.MapAll(image), id).Streams.Single();
        var clean = fx.Clean.Single(e => e.Id == id).Streams.Single();
        Assert.True(s.Encrypted);
        Assert.False(clean.Encrypted);
        Assert.Equal(clean.Extents, s.Extents);
    }
}
