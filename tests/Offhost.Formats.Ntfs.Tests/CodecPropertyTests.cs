using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Offhost.Core.Errors;

namespace Offhost.Formats.Ntfs.Tests;

public sealed class CodecPropertyTests
{
    [Property(MaxTest = 2000)]
    public void Runlist_decoder_only_throws_corrupt_structure(byte[] bytes, long startVcn, int totalClusters)
    {
        try
        {
            Runlist.Decode(bytes, Math.Abs(startVcn % (1L << 40)), Math.Abs((long)totalClusters), 1000, []);
        }
        catch (CorruptStructureException e)
        {
            Assert.True(e.DeviceOffset >= 1000, e.Message);
            Assert.Equal("runlist", e.Structure);
        }
    }

    [Property(MaxTest = 500)]
    public void Runlist_round_trips(NonEmptyArray<PositiveInt> lengths, int seed)
    {
        var random = new Random(seed);
        const long total = 1L << 40;
        var runs = lengths.Get.Select(l => ((long)l.Get, random.Next(4) == 0 ? (long?)null : random.NextInt64(0, total - l.Get))).ToList();
        var decoded = new List<DataRun>();
        long end = Runlist.Decode(Lznt1Compressor.EncodeRuns(runs), 7, total, 0, decoded);
        Assert.Equal(runs.Count, decoded.Count);
        long vcn = 7;
        for (int i = 0; i < runs.Count; i++)
        {
            Assert.Equal(vcn, decoded[i].Vcn);
            Assert.Equal(runs[i].Item1, decoded[i].LengthClusters);
            Assert.Equal(runs[i].Item2 ?? -1, decoded[i].Lcn);
            vcn += runs[i].Item1;
        }
        Assert.Equal(vcn, end);
    }

    [Fact]
    public void Runlist_rejects_oversized_fields_and_runs_outside_the_volume()
    {
        var e = Assert.Throws<CorruptStructureException>(() => Runlist.Decode([0x19, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0], 0, 100, 4096, []));
        Assert.Equal(4096, e.DeviceOffset);
        e = Assert.Throws<CorruptStructureException>(() => Runlist.Decode([0x11, 0x10, 0x60, 0x00], 0, 100, 4096, []));
        Assert.Contains("outside the volume", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<CorruptStructureException>(() => Runlist.Decode([0x11, 0x10], 0, 100, 4096, []));
        Assert.Contains("past the end", e.Message, StringComparison.Ordinal);
    }

    [Property(MaxTest = 2000)]
    public void Lznt1_only_throws_corrupt_structure(byte[] bytes)
    {
        var output = new byte[65536];
        try
        {
            int n = Lznt1.Decompress(bytes, output);
            Assert.InRange(n, 0, output.Length);
        }
        catch (CorruptStructureException e)
        {
            Assert.InRange(e.DeviceOffset, 0, bytes.Length);
        }
    }

    [Property(MaxTest = 300)]
    public void Lznt1_round_trips(byte[] seedBytes, PositiveInt repeat)
    {
        // Repetition makes the data compressible so back-references of every length and offset appear.
        var data = Enumerable.Repeat(seedBytes, 1 + repeat.Get % 50).SelectMany(x => x).Take(20000).ToArray();
        var compressed = Lznt1Compressor.Compress(data);
        var output = new byte[data.Length];
        int n = Lznt1.Decompress(compressed, output);
        Assert.Equal(data.Length, n);
        Assert.Equal(data, output);
    }

    [Fact]
    public void Lznt1_known_vectors()
    {
        // An uncompressed chunk: header 0x3002 = 3 data bytes, flag clear.
        var output = new byte[16];
        Assert.Equal(3, Lznt1.Decompress([0x02, 0x30, (byte)'a', (byte)'b', (byte)'c', 0, 0], output));
        Assert.Equal("abc"u8.ToArray(), output[..3]);
        // "abc" then a back-reference 3 bytes back of length 9: flags 0b1000, token (offset-1)<<12 | (length-3).
        byte[] compressed = [0x05, 0xB0, 0x08, (byte)'a', (byte)'b', (byte)'c', 0x06, 0x20];
        output = new byte[12];
        Assert.Equal(12, Lznt1.Decompress(compressed, output));
        Assert.Equal("abcabcabcabc"u8.ToArray(), output);
        // A back-reference before any output byte is corrupt, reported at the chunk header's offset.
        Assert.Equal(0, Lznt1.Decompress([0x00, 0x00, 0x02, 0xB0, 0x01, 0x00, 0x00], new byte[64]));
        var e = Assert.Throws<CorruptStructureException>(() => Lznt1.Decompress([0x03, 0xB0, 0x01, 0x00, 0x00, 0x00], new byte[64]));
        Assert.Equal(0, e.DeviceOffset);
        // A chunk header claiming more bytes than remain is truncated input.
        e = Assert.Throws<CorruptStructureException>(() => Lznt1.Decompress([0xFF, 0xBF, 0x00], new byte[64]));
        Assert.Contains("past the end", e.Message, StringComparison.Ordinal);
    }

    [Property(MaxTest = 2000)]
    public void File_record_parser_only_throws_corrupt_structure(byte[] body, bool validHeader, ushort bytesInUse)
    {
        var record = new byte[1024];
        body.AsSpan(0, Math.Min(body.Length, record.Length)).CopyTo(record);
        if (validHeader)
        {
            "FILE"u8.CopyTo(record);
            BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(4), 0x30);
            BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(6), 3);
            BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(0x14), 0x38);
            BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(0x18), (uint)(0x40 + bytesInUse % (1024 - 0x40)));
            BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(0x1C), 1024);
            record[0x30] = 7;
            record[0x31] = 0;
            record[510] = 7; record[511] = 0; record[1022] = 7; record[1023] = 0;
        }
        try
        {
            ParseLikeTheMapper(record);
        }
        catch (CorruptStructureException e)
        {
            Assert.InRange(e.DeviceOffset, 1_000_000, 1_000_000 + 1024 + 65536);
        }
    }

    internal static void ParseLikeTheMapper(byte[] record)
    {
        if (!FileRecord.ApplyFixups(record, 42, 1_000_000)) return;
        foreach (var a in FileRecord.Attributes(record, 42, 1_000_000))
        {
            _ = a.NameString();
            if (a.IsNonResident)
            {
                Runlist.Decode(a.MappingPairs, a.LowestVcn, 1 << 20, a.MappingPairsDeviceOffset, []);
                continue;
            }
            switch (a.Type)
            {
                case AttributeType.StandardInformation: StandardInformation.Read(a.Value, a.ValueDeviceOffset); break;
                case AttributeType.FileName: FileNameAttribute.Read(a.Value, a.ValueDeviceOffset).NameString(); break;
                case AttributeType.AttributeList: AttributeListEntry.ReadAll(a.Value, a.ValueDeviceOffset); break;
                case AttributeType.ReparsePoint: ReparsePoint.ReadLink(a.Value, a.ValueDeviceOffset); break;
            }
        }
    }
}
