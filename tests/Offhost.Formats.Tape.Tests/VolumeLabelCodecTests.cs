using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Label;

namespace Offhost.Formats.Tape.Tests;

public class VolumeLabelCodecTests
{
    static readonly VolumeLabel Sample = new("VOL001", 10L << 30, 200L << 20, new MapTime(1_700_000_000, 123_456_789),
        Guid.Parse("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"));

    [Fact]
    public void Label_round_trips_and_starts_with_an_ANSI_VOL1_label()
    {
        byte[] b = VolumeLabelCodec.Encode(Sample);
        Assert.Equal(512, b.Length);
        Assert.Equal("VOL1VOL001 ", Encoding.ASCII.GetString(b, 0, 11));
        Assert.Equal("OFFHOST", Encoding.ASCII.GetString(b, 24, 7));
        Assert.Equal((byte)'4', b[79]);
        Assert.Equal(Sample, VolumeLabelCodec.Decode(b, 4));
    }

    [Property(MaxTest = 200)]
    public Property Any_valid_label_round_trips() =>
        Prop.ForAll(Gen.Elements("A", "VOL001", "Z9", "123456").ToArbitrary(), Gen.Choose(1, int.MaxValue).ToArbitrary(), ArbMap.Default.ArbFor<Guid>(),
            (id, cap, uuid) =>
            {
                long capacity = (long)cap * 4096;
                var l = new VolumeLabel(id, capacity, VolumeLabel.DefaultEarlyWarningBytes(capacity), new MapTime(cap, cap % 1_000_000_000), uuid);
                return VolumeLabelCodec.Decode(VolumeLabelCodec.Encode(l), 0) == l;
            });

    [Property(MaxTest = 2_000)]
    public void Flipping_any_byte_is_detected(int position, byte xor)
    {
        byte[] b = VolumeLabelCodec.Encode(Sample);
        int at = (int)((uint)position % 512);
        if (xor == 0) xor = 1;
        b[at] ^= xor;
        // A flipped signature makes it "not a label"; anything else must fail the checksum or a range check.
        if (!VolumeLabelCodec.IsVolumeLabel(b)) return;
        Assert.Throws<CorruptStructureException>(() => VolumeLabelCodec.Decode(b, 4));
    }

    [Fact]
    public void Bad_volume_ids_are_refused()
    {
        Assert.Throws<ArgumentException>(() => VolumeLabelCodec.Encode(Sample with { VolumeId = "vol001" }));
        Assert.Throws<ArgumentException>(() => VolumeLabelCodec.Encode(Sample with { VolumeId = "VOL0001" }));
        Assert.Throws<ArgumentException>(() => VolumeLabelCodec.Encode(Sample with { VolumeId = "" }));
    }
}
