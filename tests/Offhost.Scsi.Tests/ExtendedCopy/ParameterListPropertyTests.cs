using FsCheck.Xunit;
using Offhost.Core.Errors;
using Offhost.Scsi.ExtendedCopy;
using Offhost.Scsi.Sense;

namespace Offhost.Scsi.Tests.ExtendedCopy;

public class ParameterListPropertyTests
{
    [Property(MaxTest = 2000)]
    public void Any_generated_list_round_trips_byte_exact(int seed)
    {
        var list = RandomLists.List(seed);
        var bytes = list.ToBytes();
        var back = ExtendedCopyParameterList.Read(bytes, RandomLists.Everything);
        Assert.Equal(list, back);
        Assert.Equal(bytes, back.ToBytes());
    }

    [Property(MaxTest = 500)]
    public void Every_segment_type_round_trips_alone(int seed)
    {
        var r = new Random(seed);
        foreach (byte type in RandomLists.SegmentTypes)
        {
            var seg = RandomLists.Segment(r, type);
            Assert.Equal(type, seg.TypeCode);
            var bytes = seg.ToBytes();
            Assert.Equal(0, bytes.Length % 4);
            Assert.Equal(bytes.Length - 4, (bytes[2] << 8) | bytes[3]);
            var list = new ExtendedCopyParameterList(0, [], [seg]);
            Assert.Equal(seg, Assert.Single(ExtendedCopyParameterList.Read(list.ToBytes()).SegmentDescriptors));
        }
    }

    static readonly HashSet<(byte, byte)> ListErrors =
        [(0x1A, 0x00), (0x26, 0x00), (0x26, 0x06), (0x26, 0x07), (0x26, 0x08), (0x26, 0x09)];

    static void DecodeOrProperError(byte[] bytes, OperatingParameters? limits = null)
    {
        try
        {
            var list = ExtendedCopyParameterList.Read(bytes, limits);
            Assert.True(list.LengthBytes <= bytes.Length);
        }
        catch (ExtendedCopyException e)
        {
            Assert.Equal(SenseKey.IllegalRequest, e.Sense.Key);
            Assert.Contains((e.Sense.Asc, e.Sense.Ascq), ListErrors);
            if (e.Sense.FieldPointer is { } fp) Assert.InRange(fp.ByteOffset, 0, Math.Max(bytes.Length, 16));
        }
    }

    [Property(MaxTest = 10_000)]
    public void Arbitrary_bytes_decode_or_give_ILLEGAL_REQUEST_sense(byte[] bytes) => DecodeOrProperError(bytes);

    [Property(MaxTest = 5_000)]
    public void Mutated_valid_lists_decode_or_give_ILLEGAL_REQUEST_sense(int seed, byte[] noise)
    {
        var bytes = RandomLists.List(seed).ToBytes();
        var r = new Random(seed ^ 0x5EED);
        foreach (byte n in noise) bytes[r.Next(bytes.Length)] = n;
        DecodeOrProperError(bytes);
        DecodeOrProperError(bytes, RandomLists.Everything);
    }

    [Property(MaxTest = 2_000)]
    public void Arbitrary_bytes_as_results_data_decode_or_give_corrupt_structure(byte[] bytes)
    {
        foreach (var decode in new Action[]
                 {
                     () => OperatingParameters.Read(bytes), () => CopyStatus.Read(bytes), () => FailedSegmentDetails.Read(bytes),
                 })
        {
            try { decode(); }
            catch (CorruptStructureException) { }
        }
        foreach (var decode in new Action[] { () => ExtendedCopyCdb.Read(bytes), () => ReceiveCopyResultsCdb.Read(bytes) })
        {
            try { decode(); }
            catch (ExtendedCopyException e) { Assert.Equal(SenseKey.IllegalRequest, e.Sense.Key); }
        }
    }

    [Property(MaxTest = 500)]
    public void Operating_parameters_round_trip(ushort cscds, ushort segments, uint mdll, uint inline, byte[] codes)
    {
        var p = OperatingParameters.Default with
        {
            MaxCscdDescriptorCount = cscds, MaxSegmentDescriptorCount = segments, MaxDescriptorListLengthBytes = mdll,
            MaxInlineDataLengthBytes = inline, ImplementedDescriptorTypeCodes = codes.Take(255).ToArray(),
        };
        Assert.Equal(p, OperatingParameters.Read(p.ToBytes()));
    }
}
