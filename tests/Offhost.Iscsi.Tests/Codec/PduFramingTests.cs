using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Offhost.Iscsi.Pdu;

namespace Offhost.Iscsi.Tests.Codec;

public sealed class PduFramingTests
{
    static readonly IscsiOpcode[] TargetOpcodes =
    [
        IscsiOpcode.NopIn, IscsiOpcode.ScsiResponse, IscsiOpcode.TaskManagementResponse, IscsiOpcode.LoginResponse,
        IscsiOpcode.TextResponse, IscsiOpcode.DataIn, IscsiOpcode.LogoutResponse, IscsiOpcode.ReadyToTransfer,
        IscsiOpcode.AsyncMessage, IscsiOpcode.Reject,
    ];

    /// <summary>A random valid target PDU: random header fields, AHS of 0-3 words, data of 0-2000 bytes.</summary>
    static IscsiPdu MakePdu(Random random)
    {
        var pdu = new IscsiPdu(TargetOpcodes[random.Next(TargetOpcodes.Length)]);
        var header = new byte[IscsiPdu.BhsLength];
        random.NextBytes(header);
        header.AsSpan(1).CopyTo(pdu.Header.AsSpan(1));
        pdu.Header[0] = (byte)((byte)pdu.Opcode | (random.Next(2) == 0 ? 0x40 : 0));
        var ahs = new byte[random.Next(4) * 4];
        random.NextBytes(ahs);
        var data = new byte[random.Next(3) == 0 ? 0 : random.Next(2000)];
        random.NextBytes(data);
        pdu.AdditionalHeader = ahs;
        pdu.Data = data;
        return pdu;
    }

    static void AssertSame(IscsiPdu expected, IscsiPdu actual)
    {
        Assert.Equal(expected.Header, actual.Header);
        Assert.Equal(expected.AdditionalHeader.ToArray(), actual.AdditionalHeader.ToArray());
        Assert.Equal(expected.Data.ToArray(), actual.Data.ToArray());
    }

    [Property(MaxTest = 200)]
    public void Encoded_pdus_frame_back_identically(int seed, bool headerDigest, bool dataDigest)
    {
        var random = new Random(seed);
        var digests = new DigestOptions(headerDigest, dataDigest);
        var pdu = MakePdu(random);
        var bytes = PduCodec.Encode(pdu, digests);
        Assert.Equal(0, bytes.Length % 4);
        var framer = new PduFramer(8192) { Digests = digests };
        framer.Append(bytes);
        Assert.True(framer.TryRead(out var read));
        AssertSame(pdu, read);
        Assert.False(framer.TryRead(out _));
        Assert.Equal(bytes.Length, framer.StreamOffset);
    }

    [Property(MaxTest = 200)]
    public void A_stream_split_at_random_points_frames_the_same_pdus(int seed, bool headerDigest, bool dataDigest)
    {
        var random = new Random(seed);
        var digests = new DigestOptions(headerDigest, dataDigest);
        var pdus = Enumerable.Range(0, 1 + random.Next(8)).Select(_ => MakePdu(random)).ToList();
        var stream = pdus.SelectMany(p => PduCodec.Encode(p, digests)).ToArray();
        var framer = new PduFramer(8192) { Digests = digests };
        var framed = new List<IscsiPdu>();
        int at = 0;
        while (at < stream.Length)
        {
            int n = Math.Min(stream.Length - at, 1 + random.Next(300));
            var memory = framer.GetMemory(n).Span;
            n = Math.Min(n, memory.Length);
            stream.AsSpan(at, n).CopyTo(memory);
            framer.Advance(n);
            at += n;
            while (framer.TryRead(out var pdu))
                framed.Add(new IscsiPdu(pdu.Header, pdu.AdditionalHeader.ToArray(), pdu.Data.ToArray()));
        }
        Assert.Equal(pdus.Count, framed.Count);
        for (int i = 0; i < pdus.Count; i++) AssertSame(pdus[i], framed[i]);
        Assert.Equal(0, framer.BufferedBytes);
    }

    [Property(MaxTest = 1000)]
    public void Arbitrary_bytes_give_pdus_or_a_protocol_error(byte[] bytes, bool headerDigest, bool dataDigest, byte firstByte)
    {
        // Half the cases start with a valid target opcode so that framing gets past the first check.
        if (bytes.Length > 0 && firstByte % 2 == 0) bytes[0] = (byte)TargetOpcodes[firstByte % TargetOpcodes.Length];
        var framer = new PduFramer(4096) { Digests = new DigestOptions(headerDigest, dataDigest) };
        try
        {
            framer.Append(bytes);
            while (framer.TryRead(out var pdu))
                Assert.True(pdu.Data.Length <= 4096);
            Assert.True(framer.MissingBytes() >= 0);
        }
        catch (IscsiProtocolException)
        {
        }
    }

    [Fact]
    public void Over_long_data_segment_is_refused_before_buffering_it()
    {
        var pdu = new IscsiPdu(IscsiOpcode.DataIn) { Data = new byte[10000] };
        var bytes = PduCodec.Encode(pdu, default);
        var framer = new PduFramer(8192);
        framer.Append(bytes.AsSpan(0, IscsiPdu.BhsLength));
        var e = Assert.Throws<IscsiProtocolException>(() => framer.TryRead(out _));
        Assert.Contains("10000", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupted_digests_are_detected()
    {
        var pdu = new IscsiPdu(IscsiOpcode.DataIn) { Data = new byte[] { 1, 2, 3, 4, 5 } };
        var digests = new DigestOptions(true, true);
        var bytes = PduCodec.Encode(pdu, digests);
        var badHeader = (byte[])bytes.Clone();
        badHeader[20] ^= 1;
        var framer = new PduFramer(8192) { Digests = digests };
        framer.Append(badHeader);
        Assert.Contains("header digest", Assert.Throws<IscsiProtocolException>(() => framer.TryRead(out _)).Message, StringComparison.Ordinal);

        var badData = (byte[])bytes.Clone();
        badData[IscsiPdu.BhsLength + 4 + 2] ^= 0x80;
        framer = new PduFramer(8192) { Digests = digests };
        framer.Append(badData);
        Assert.Contains("data digest", Assert.Throws<IscsiProtocolException>(() => framer.TryRead(out _)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Initiator_opcode_from_a_target_is_refused()
    {
        var bytes = PduCodec.Encode(new IscsiPdu(IscsiOpcode.ScsiCommand), default);
        var framer = new PduFramer(8192);
        framer.Append(bytes);
        Assert.Throws<IscsiProtocolException>(() => framer.TryRead(out _));
    }

    [Fact]
    public void Field_accessors_sit_at_their_rfc_offsets()
    {
        var pdu = new IscsiPdu(IscsiOpcode.ScsiCommand)
        {
            Immediate = true,
            LunField = 0x0001000000000000UL,
            InitiatorTaskTag = 0x11223344,
            ExpectedDataTransferLength = 0x00100000,
            CmdSN = 0xA1A2A3A4,
            ExpStatSN = 0xB1B2B3B4,
            Data = new byte[5],
        };
        pdu.Final = true;
        var bytes = PduCodec.Encode(pdu, default);
        Assert.Equal(0x41, bytes[0]);
        Assert.Equal(0x80, bytes[1]);
        Assert.Equal(new byte[] { 0, 0, 0, 5 }, bytes[4..8]);
        Assert.Equal(0x01, bytes[9]);
        Assert.Equal(new byte[] { 0x11, 0x22, 0x33, 0x44 }, bytes[16..20]);
        Assert.Equal(new byte[] { 0x00, 0x10, 0x00, 0x00 }, bytes[20..24]);
        Assert.Equal(new byte[] { 0xA1, 0xA2, 0xA3, 0xA4 }, bytes[24..28]);
        Assert.Equal(new byte[] { 0xB1, 0xB2, 0xB3, 0xB4 }, bytes[28..32]);
        Assert.Equal(48 + 8, bytes.Length);                         // 5 data bytes padded to 8
    }

    [Property(MaxTest = 300)]
    public bool Serial_number_order_is_antisymmetric(uint a, uint b) =>
        a == b || SerialNumber.LessThan(a, b) != SerialNumber.LessThan(b, a) || (uint)(a - b) == 0x80000000u;
}
