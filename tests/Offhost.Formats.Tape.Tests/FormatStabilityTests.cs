using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Index;
using Offhost.Formats.Tape.Label;
using Offhost.Formats.Tape.Pax;

namespace Offhost.Formats.Tape.Tests;

/// <summary>
/// Freezes the bytes of version 1 of the label and the index (docs/formats/tape-format.md). A failure here means
/// the on-tape format changed: that needs a version bump and a decoder for the old version, not a new golden value.
/// </summary>
public class FormatStabilityTests
{
    [Fact]
    public void Volume_label_version_1_bytes_are_frozen()
    {
        var label = new VolumeLabel("VOL001", 0x0102030405, 0x0A0B, new MapTime(0x11223344, 0x55667), Guid.Parse("00112233-4455-6677-8899-aabbccddeeff"));
        byte[] b = VolumeLabelCodec.Encode(label);
        Assert.Equal("4F4646484F535456" + "0100" + "0000" + "0504030201000000" + "0B0A000000000000" + "4433221100000000" + "67560500"
            + "00112233445566778899AABBCCDDEEFF", Convert.ToHexString(b, 80, 56));
        Assert.Equal(GoldenLabelChecksum, Convert.ToHexString(b, 504, 8));
    }

    const string GoldenLabelChecksum = "3EAE9D0AD5D7BDBB";

    [Fact]
    public void Index_version_1_bytes_are_frozen()
    {
        var header = new TapeIndexHeader(Guid.Parse("00112233-4455-6677-8899-aabbccddeeff"), "src", new MapTime(1, 2), 3);
        var entry = new TapeIndexEntry("a", PaxEntryKind.File, 0x200)
        {
            SizeBytes = 5,
            Mode = 0x1A4,
            Uid = 1,
            Gid = 2,
            Modified = new MapTime(7, 8),
            Streams = [new TapeIndexStream("", 5, 0x200, 0x400, 0x1122334455667788)],
        };
        Assert.Equal(GoldenIndex, Convert.ToHexString(TapeIndexEncoder.Encode(header, [entry])));
    }

    const string GoldenIndex =
        "4F4646484944580032000000010100000000112233445566778899AABBCCDDEEFF010000000000000002000000030000000000000003007372635C000000020000A4010000010000000200000000020000000000000500000000000000010700000000000000080000000100610000000100000000000500000000000000000200000000000000040000000000008877665544332211150000000301000000000000001874BAE6EA166260";
}
