using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Offhost.Iscsi.Text;

namespace Offhost.Iscsi.Tests.Codec;

public sealed class TextParametersTests
{
    [Fact]
    public void Encodes_nul_terminated_pairs_in_order()
    {
        var p = new TextParameters();
        p.Add("SendTargets", "All");
        p.Add("TargetAddress", "10.0.0.1:3260,1");
        p.Add("TargetAddress", "10.0.0.2:3260,1");
        Assert.Equal("SendTargets=All\0TargetAddress=10.0.0.1:3260,1\0TargetAddress=10.0.0.2:3260,1\0", Encoding.UTF8.GetString(p.Encode()));
        var back = TextParameters.Parse(p.Encode());
        Assert.Equal(p.Pairs, back.Pairs);
        Assert.Equal("10.0.0.1:3260,1", back["TargetAddress"]);
    }

    [Property(MaxTest = 300)]
    public void Round_trips_generated_pairs(int seed)
    {
        var random = new Random(seed);
        const string keyChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-+@_";
        var p = new TextParameters();
        for (int i = random.Next(10); i > 0; i--)
        {
            string key = new(Enumerable.Range(0, 1 + random.Next(63)).Select(_ => keyChars[random.Next(keyChars.Length)]).ToArray());
            string value = new(Enumerable.Range(0, random.Next(255)).Select(_ => (char)random.Next(0x20, 0x7F)).ToArray());
            p.Add(key, value);
        }
        Assert.Equal(p.Pairs, TextParameters.Parse(p.Encode()).Pairs);
    }

    [Property(MaxTest = 1000)]
    public void Arbitrary_bytes_parse_or_give_a_protocol_error(byte[] bytes)
    {
        try
        {
            var p = TextParameters.Parse(bytes);
            Assert.All(p.Pairs, kv => Assert.InRange(Encoding.UTF8.GetByteCount(kv.Key), 1, TextParameters.MaxKeyBytes));
        }
        catch (IscsiProtocolException)
        {
        }
    }

    [Property(MaxTest = 1000)]
    public void Arbitrary_values_parse_or_give_a_protocol_error(string? value)
    {
        value ??= "";
        try { TextValues.ParseBinary("K", value); } catch (IscsiProtocolException) { }
        try { TextValues.ParseNumber("K", value, 0, 100); } catch (IscsiProtocolException) { }
        try { TextValues.ParseBool("K", value); } catch (IscsiProtocolException) { }
    }

    [Theory]
    [InlineData("0x0a0B", new byte[] { 0x0A, 0x0B })]
    [InlineData("0xabc", new byte[] { 0x0A, 0xBC })]
    [InlineData("0bAQID", new byte[] { 1, 2, 3 })]
    public void Binary_values_in_hex_and_base64(string text, byte[] expected) =>
        Assert.Equal(expected, TextValues.ParseBinary("CHAP_C", text));

    [Fact]
    public void Malformed_text_names_the_byte_offset()
    {
        var e = Assert.Throws<IscsiProtocolException>(() => TextParameters.Parse("A=1\0novalue\0"u8));
        Assert.Contains("byte 4", e.Message, StringComparison.Ordinal);
        Assert.Throws<IscsiProtocolException>(() => TextParameters.Parse("A=1"u8));
        Assert.Throws<IscsiProtocolException>(() => TextParameters.Parse([0x41, 0x3D, 0xFF, 0x00]));
    }
}
