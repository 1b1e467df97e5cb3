using System.Text;
using FsCheck.Xunit;
using Offhost.Iscsi.Digests;

namespace Offhost.Iscsi.Tests.Codec;

public sealed class Crc32CTests
{
    // RFC 3720 Appendix B.4 and the check value of the Castagnoli CRC.
    [Theory]
    [InlineData("zeros", 0x8A9136AAu)]
    [InlineData("ones", 0x62A8AB43u)]
    [InlineData("incrementing", 0x46DD794Eu)]
    [InlineData("decrementing", 0x113FDB5Cu)]
    [InlineData("check", 0xE3069283u)]
    public void Known_vectors(string name, uint expected)
    {
        byte[] data = name switch
        {
            "zeros" => new byte[32],
            "ones" => Enumerable.Repeat((byte)0xFF, 32).ToArray(),
            "incrementing" => Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(),
            "decrementing" => Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray(),
            _ => Encoding.ASCII.GetBytes("123456789"),
        };
        Assert.Equal(expected, Crc32C.Compute(data));
    }

    [Fact]
    public void Rfc3720_iscsi_read_command_pdu()
    {
        byte[] pdu =
        [
            0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
            0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        Assert.Equal(0xD9963A56u, Crc32C.Compute(pdu));
    }

    [Fact]
    public void Digest_goes_on_the_wire_least_significant_byte_first()
    {
        var wire = new byte[4];
        Crc32C.Write(wire, Crc32C.Compute(new byte[32]));
        Assert.Equal(new byte[] { 0xAA, 0x36, 0x91, 0x8A }, wire);
        Assert.Equal(0x8A9136AAu, Crc32C.Read(wire));
    }

    [Property(MaxTest = 300)]
    public bool Split_computation_equals_whole(byte[] a, byte[] b) =>
        Crc32C.Compute(a, b) == Crc32C.Compute([.. a, .. b]);

    [Property(MaxTest = 300)]
    public bool Matches_bitwise_reference(byte[] data) => Crc32C.Compute(data) == Reference(data);

    static uint Reference(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        return ~crc;
    }
}
