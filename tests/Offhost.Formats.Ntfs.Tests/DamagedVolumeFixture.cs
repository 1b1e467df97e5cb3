using System.Buffers.Binary;
using Offhost.Core.Devices;
using Offhost.Core.Mapping;
using Offhost.Testing;

namespace Offhost.Formats.Ntfs.Tests;

/// <summary>
/// A small real volume that the damage tests copy into memory and corrupt in one place each: a resident victim file,
/// bystanders, two nested directories, a file with exactly a few runs and a fragmented file with an $ATTRIBUTE_LIST.
/// </summary>
public sealed class DamagedVolumeFixture : IDisposable
{
    static readonly string Script = """
        echo victim > victim.txt
        echo bystander > bystander.txt
        mkdir -p loopA/loopB
        echo inner > loopA/loopB/inner.txt
        head -c 4096 /dev/urandom > two-runs.bin

        """ + NtfsVolumeBuilder.InterleavedAppendScript("filler", 900, "fragmented.bin", "companion.bin", 400) + """
        rm companion.bin
        head -c 4096 /dev/urandom >> two-runs.bin
        rm filler
        """;

    public DamagedVolumeFixture()
    {
        using var b = new NtfsVolumeBuilder("damage", 16L * 1024 * 1024, label: "Damage");
        b.Mount();
        b.Bash(Script);
        b.Unmount();
        Image = File.ReadAllBytes(b.ImagePath);
        var mapper = (NtfsMapper)NtfsVolume.OpenMapper(Slice(Image), null);
        Clean = mapper.Entries(CancellationToken.None).ToList();
        Assert.DoesNotContain(Clean, e => e.Kind == MapEntryKind.Unmappable);
        Assert.True(mapper.AttributeListsSeen >= 1, "fixture has no $ATTRIBUTE_LIST");
        foreach (var e in Clean) RecordOffsets[e.Id] = mapper.RecordDeviceOffset(e.Id);
        metadataOffsets = [mapper.RecordDeviceOffset(0), mapper.RecordDeviceOffset(1), mapper.RecordDeviceOffset(2), mapper.RecordDeviceOffset(3)];
        RecordBytes = 1024;
    }

    readonly long[] metadataOffsets;

    /// <summary>Device offset of metadata record 0-3 ($MFT, $MFTMirr, $LogFile, $Volume).</summary>
    public long MftRecordOffset(int record) => metadataOffsets[record];

    public byte[] Image { get; }
    public List<MapEntry> Clean { get; }
    public Dictionary<ulong, long> RecordOffsets { get; } = [];
    public int RecordBytes { get; }

    public static SliceBlockSource Slice(byte[] image) => new(new MemoryBlockSource(image, "memory-image"), 0, image.Length);

    public ulong Id(string path) => Clean.Single(e => e.Path == path).Id;

    /// <summary>A copy of the image with <paramref name="patch"/> applied to the fixed-up bytes of one FILE record;
    /// the update sequence is re-encoded afterwards so only the intended damage remains.</summary>
    public byte[] PatchRecord(ulong id, Action<byte[]> patch)
    {
        var image = (byte[])Image.Clone();
        long at = RecordOffsets[id];
        var rec = image.AsSpan((int)at, RecordBytes).ToArray();
        Assert.True(FileRecord.ApplyFixups(rec, id, at));
        patch(rec);
        Refixup(rec);
        rec.CopyTo(image.AsSpan((int)at));
        return image;
    }

    public static void Refixup(Span<byte> rec)
    {
        int usa = BinaryPrimitives.ReadUInt16LittleEndian(rec[4..]);
        int count = BinaryPrimitives.ReadUInt16LittleEndian(rec[6..]);
        ushort usn = BinaryPrimitives.ReadUInt16LittleEndian(rec[usa..]);
        for (int i = 0; i < count - 1; i++)
        {
            int end = (i + 1) * FileRecord.StrideBytes - 2;
            rec.Slice(end, 2).CopyTo(rec.Slice(usa + 2 + 2 * i, 2));
            BinaryPrimitives.WriteUInt16LittleEndian(rec[end..], usn);
        }
    }

    /// <summary>Offset within the record of the first attribute of <paramref name="type"/>.</summary>
    public static int FindAttribute(byte[] fixedUp, uint type, out int length)
    {
        int pos = BinaryPrimitives.ReadUInt16LittleEndian(fixedUp.AsSpan(0x14));
        while (true)
        {
            uint t = BinaryPrimitives.ReadUInt32LittleEndian(fixedUp.AsSpan(pos));
            Assert.NotEqual(0xFFFFFFFFu, t);
            length = BinaryPrimitives.ReadInt32LittleEndian(fixedUp.AsSpan(pos + 4));
            if (t == type) return pos;
            pos += length;
        }
    }

    public static List<MapEntry> MapAll(byte[] image) => NtfsVolume.OpenMapper(Slice(image), null).Entries(CancellationToken.None).ToList();

    public void Dispose() { }
}
