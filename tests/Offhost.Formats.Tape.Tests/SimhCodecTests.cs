using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Offhost.Core.Errors;
using Offhost.Formats.Tape.Simh;

namespace Offhost.Formats.Tape.Tests;

public class SimhCodecTests
{
    /// <summary>Builds an image from records (non-null) and tape marks (null).</summary>
    internal static byte[] Image(IEnumerable<byte[]?> objects)
    {
        var ms = new MemoryStream();
        foreach (var o in objects)
        {
            if (o is null) { ms.Write(new byte[4]); continue; }
            var b = new byte[SimhCodec.EncodedRecordBytes(o.Length)];
            SimhCodec.EncodeRecord(o, b);
            ms.Write(b);
        }
        return ms.ToArray();
    }

    static List<byte[]?> ReadAll(byte[] image)
    {
        var result = new List<byte[]?>();
        long at = 0;
        while (true)
        {
            var o = SimhCodec.ReadObject(image, at);
            if (o.Kind == SimhObjectKind.EndOfMedium) return result;
            if (o.Kind == SimhObjectKind.TapeMark) result.Add(null);
            if (o.Kind == SimhObjectKind.Record) result.Add(image.AsSpan((int)o.DataOffsetBytes, o.DataBytes).ToArray());
            at = o.EndOffsetBytes;
        }
    }

    static Arbitrary<byte[]?[]> Objects() =>
        Gen.OneOf(
                Gen.Constant<byte[]?>(null),
                Gen.Choose(1, 300).SelectMany(n => Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), n)).Select(a => (byte[]?)a))
            .ArrayOf().ToArbitrary();

    [Property(MaxTest = 300)]
    public Property Records_and_tape_marks_round_trip_forward_and_backward() =>
        Prop.ForAll(Objects(), objects =>
        {
            byte[] image = Image(objects);
            var forward = ReadAll(image);
            // Backwards from the end gives the same objects in reverse order.
            var backward = new List<byte[]?>();
            long end = image.Length;
            while (SimhCodec.ReadObjectBefore(image, end) is { } o)
            {
                backward.Add(o.Kind == SimhObjectKind.TapeMark ? null : image.AsSpan((int)o.DataOffsetBytes, o.DataBytes).ToArray());
                end = o.OffsetBytes;
            }
            backward.Reverse();
            return Same(objects, forward) && Same(objects, backward);
        });

    static bool Same(IReadOnlyList<byte[]?> a, IReadOnlyList<byte[]?> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First is null ? p.Second is null : p.Second is not null && p.First.AsSpan().SequenceEqual(p.Second));

    [Property(MaxTest = 10_000)]
    public void Arbitrary_bytes_give_objects_or_a_corrupt_structure_error(byte[] image)
    {
        try
        {
            long at = 0;
            for (int i = 0; i < 10_000; i++)
            {
                var o = SimhCodec.ReadObject(image, at);
                if (o.Kind == SimhObjectKind.EndOfMedium) break;
                Assert.True(o.EndOffsetBytes > at && o.EndOffsetBytes <= image.Length);
                at = o.EndOffsetBytes;
            }
        }
        catch (CorruptStructureException e)
        {
            Assert.InRange(e.DeviceOffset, 0, image.Length);
        }
        try
        {
            long end = image.Length;
            for (int i = 0; i < 10_000 && SimhCodec.ReadObjectBefore(image, end) is { } o; i++)
            {
                Assert.True(o.OffsetBytes < end && o.OffsetBytes >= 0);
                end = o.OffsetBytes;
            }
        }
        catch (CorruptStructureException e)
        {
            Assert.InRange(e.DeviceOffset, -1, image.Length);
        }
    }

    [Fact]
    public void Odd_record_is_padded_to_even_with_the_length_repeated()
    {
        byte[] image = Image([[1, 2, 3], null]);
        Assert.Equal(new byte[] { 3, 0, 0, 0, 1, 2, 3, 0, 3, 0, 0, 0, 0, 0, 0, 0 }, image);
    }

    [Fact]
    public void Unpadded_odd_record_of_the_E11_variant_is_read()
    {
        byte[] image = [3, 0, 0, 0, 1, 2, 3, 3, 0, 0, 0, 0, 0, 0, 0];
        var r = SimhCodec.ReadObject(image, 0);
        Assert.Equal(SimhObjectKind.Record, r.Kind);
        Assert.Equal(11, r.TotalBytes);
        Assert.Equal(SimhObjectKind.TapeMark, SimhCodec.ReadObject(image, r.EndOffsetBytes).Kind);
    }

    [Fact]
    public void Markers_are_classified_and_bad_flag_reported()
    {
        Assert.Equal(SimhObjectKind.EraseGap, SimhCodec.ClassifyLeader(0xFFFFFFFE, 0).Kind);
        Assert.Equal(SimhObjectKind.EndOfMedium, SimhCodec.ClassifyLeader(0xFFFFFFFF, 0).Kind);
        Assert.Equal(2, SimhCodec.ClassifyLeader(0xFFFEFFFF, 0).TotalBytes);
        var bad = SimhCodec.ClassifyLeader(0x8000_0010, 0);
        Assert.True(bad.Bad);
        Assert.Equal(16, bad.DataBytes);
        var e = Assert.Throws<CorruptStructureException>(() => SimhCodec.ClassifyLeader(0x4000_0010, 100));
        Assert.Equal(100, e.DeviceOffset);
    }

    [Fact]
    public void Mismatched_trailer_names_its_offset()
    {
        byte[] image = Image([[1, 2, 3, 4]]);
        image[^4] = 5;
        var e = Assert.Throws<CorruptStructureException>(() => SimhCodec.ReadObject(image, 0));
        Assert.Equal(8, e.DeviceOffset);
        Assert.Contains("trailing length", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Record_longer_than_the_image_is_reported_truncated()
    {
        byte[] image = [0x00, 0x01, 0, 0, 1, 2];
        var e = Assert.Throws<CorruptStructureException>(() => SimhCodec.ReadObject(image, 0));
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }
}
