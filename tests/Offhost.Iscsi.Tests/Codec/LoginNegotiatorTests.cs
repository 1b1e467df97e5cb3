using System.Text;
using FsCheck.Xunit;
using Offhost.Iscsi.Login;
using Offhost.Iscsi.Pdu;
using Offhost.Iscsi.Text;

namespace Offhost.Iscsi.Tests.Codec;

public sealed class LoginNegotiatorTests
{
    const string Target = "iqn.2024-01.test:disk";

    static LoginSettings Settings(ChapCredentials? chap = null) => new()
    {
        InitiatorName = "iqn.2024-01.test:initiator",
        TargetName = Target,
        Isid = 0x80123456789AUL,
        InitiatorTaskTag = 7,
        Chap = chap,
        MutualChapIdentifier = 7,
        MutualChapChallenge = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray(),
        Proposal = new SessionParameters
        {
            HeaderDigest = true,
            DataDigest = false,
            MaxRecvDataSegmentLengthBytes = 262144,
            MaxBurstLengthBytes = 1048576,
            FirstBurstLengthBytes = 262144,
            InitialR2T = false,
            ImmediateData = true,
        },
    };

    static IscsiPdu Response(IscsiPdu request, int csg, int nsg, bool transit, string text, ushort tsih = 0, byte statusClass = 0, byte statusDetail = 0, uint statSN = 100)
    {
        var pdu = new IscsiPdu(IscsiOpcode.LoginResponse)
        {
            Isid = request.Isid,
            Tsih = tsih,
            InitiatorTaskTag = request.InitiatorTaskTag,
            StatSN = statSN,
            ExpCmdSN = request.CmdSN,
            MaxCmdSN = request.CmdSN + 31,
            Data = Encoding.UTF8.GetBytes(text),
        };
        pdu.Flags = (byte)((transit ? 0x80 : 0) | (csg << 2) | (transit ? nsg : 0));
        pdu.Header[36] = statusClass;
        pdu.Header[37] = statusDetail;
        return pdu;
    }

    static TextParameters Keys(IscsiPdu pdu) => TextParameters.Parse(pdu.Data.Span);

    [Fact]
    public void Without_chap_the_first_pdu_goes_straight_to_the_operational_stage()
    {
        var n = new LoginNegotiator(Settings());
        var first = n.Start();
        var bytes = PduCodec.Encode(first, default);
        Assert.Equal(0x43, bytes[0]);                 // Login Request, immediate
        Assert.Equal(0x87, bytes[1]);                 // T=1, CSG=1, NSG=3
        Assert.Equal(new byte[] { 0x80, 0x12, 0x34, 0x56, 0x78, 0x9A, 0, 0 }, bytes[8..16]);
        var keys = Keys(first);
        Assert.Equal(Target, keys["TargetName"]);
        Assert.Equal("Normal", keys["SessionType"]);
        Assert.Equal("CRC32C,None", keys["HeaderDigest"]);
        Assert.Equal("None", keys["DataDigest"]);
        Assert.Equal("No", keys["InitialR2T"]);

        // tgt's answer: its defaults win where the result function says so.
        var done = n.Receive(Response(first, 1, 3, true,
            "TargetPortalGroupTag=1\0HeaderDigest=CRC32C\0DataDigest=None\0MaxRecvDataSegmentLength=8192\0InitialR2T=Yes\0ImmediateData=Yes\0" +
            "MaxBurstLength=262144\0FirstBurstLength=65536\0MaxOutstandingR2T=1\0DataPDUInOrder=Yes\0DataSequenceInOrder=Yes\0" +
            "ErrorRecoveryLevel=0\0DefaultTime2Wait=2\0DefaultTime2Retain=0\0MaxConnections=1\0IFMarker=No\0OFMarker=No\0", tsih: 5));
        Assert.Null(done);
        Assert.True(n.IsComplete);
        var r = n.Result;
        Assert.True(r.HeaderDigest);
        Assert.False(r.DataDigest);
        Assert.Equal(8192, r.TargetMaxRecvDataSegmentLengthBytes);
        Assert.Equal(262144, r.MaxRecvDataSegmentLengthBytes);
        Assert.True(r.InitialR2T);
        Assert.True(r.ImmediateData);
        Assert.Equal(262144, r.MaxBurstLengthBytes);
        Assert.Equal(65536, r.FirstBurstLengthBytes);
        Assert.Equal((ushort)5, n.Tsih);
        Assert.Equal(101u, n.ExpStatSN);
        Assert.Equal(1, n.TargetPortalGroupTag);
    }

    [Fact]
    public void Mutual_chap_answers_the_challenge_and_checks_the_target()
    {
        var chap = new ChapCredentials("user", Encoding.UTF8.GetBytes("target-secret-123"))
        {
            TargetSecret = Encoding.UTF8.GetBytes("mutual-secret-456"),
            TargetUserName = "tgt",
        };
        var n = new LoginNegotiator(Settings(chap));
        var first = n.Start();
        Assert.Equal(0x81, first.Flags);             // T=1, CSG=0, NSG=1
        Assert.Equal("CHAP,None", Keys(first)["AuthMethod"]);

        var algorithm = n.Receive(Response(first, 0, 0, false, "AuthMethod=CHAP\0"))!;
        Assert.Equal("5", Keys(algorithm)["CHAP_A"]);
        Assert.Equal(0x00, algorithm.Flags);         // T=0, CSG=0

        var answer = n.Receive(Response(algorithm, 0, 0, false, "CHAP_A=5\0CHAP_I=42\0CHAP_C=0xa1b2c3d4e5f60718293a4b5c6d7e8f90\0"))!;
        var keys = Keys(answer);
        Assert.Equal("user", keys["CHAP_N"]);
        Assert.Equal("0x30143694f0d72c0e2fcafc906360bc65", keys["CHAP_R"]);   // MD5(42 ‖ secret ‖ challenge)
        Assert.Equal("7", keys["CHAP_I"]);
        Assert.Equal("0x000102030405060708090a0b0c0d0e0f", keys["CHAP_C"]);
        Assert.Equal(0x81, answer.Flags);

        var operational = n.Receive(Response(answer, 0, 1, true, "CHAP_N=tgt\0CHAP_R=0x9515466ef74bfb17943a3c49b0917f57\0"))!;
        Assert.Equal(0x87, operational.Flags);
        Assert.Equal("CRC32C,None", Keys(operational)["HeaderDigest"]);
    }

    [Fact]
    public void Mutual_chap_with_a_wrong_target_answer_fails()
    {
        var chap = new ChapCredentials("user", "s"u8.ToArray()) { TargetSecret = "mutual-secret-456"u8.ToArray() };
        var n = new LoginNegotiator(Settings(chap));
        var a = n.Receive(Response(n.Start(), 0, 0, false, "AuthMethod=CHAP\0"))!;
        var r = n.Receive(Response(a, 0, 0, false, "CHAP_A=5\0CHAP_I=1\0CHAP_C=0x0102\0"))!;
        var e = Assert.Throws<IscsiLoginException>(() => n.Receive(Response(r, 0, 1, true, "CHAP_N=tgt\0CHAP_R=0x00000000000000000000000000000000\0")));
        Assert.Contains("mutual", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_md5_is_accepted()
    {
        var n = new LoginNegotiator(Settings(new ChapCredentials("user", "s"u8.ToArray())));
        var a = n.Receive(Response(n.Start(), 0, 0, false, "AuthMethod=CHAP\0"))!;
        Assert.Throws<IscsiLoginException>(() => n.Receive(Response(a, 0, 0, false, "CHAP_A=7\0CHAP_I=1\0CHAP_C=0x0102\0")));
    }

    [Theory]
    [InlineData(2, 1, "authentication failed")]
    [InlineData(2, 3, "target not found")]
    [InlineData(3, 2, "out of resources")]
    public void Login_status_is_explained(byte statusClass, byte detail, string text)
    {
        var n = new LoginNegotiator(Settings());
        var e = Assert.Throws<IscsiLoginException>(() => n.Receive(Response(n.Start(), 1, 0, false, "", statusClass: statusClass, statusDetail: detail)));
        Assert.Contains(text, e.Message, StringComparison.Ordinal);
        Assert.Equal(statusClass, e.StatusClass);
    }

    [Fact]
    public void Continued_response_text_is_collected_before_use()
    {
        var n = new LoginNegotiator(Settings());
        var first = n.Start();
        var partial = Response(first, 1, 0, false, "HeaderDigest=None\0");
        partial.Flags |= 0x40;                                        // C=1
        var next = n.Receive(partial)!;
        Assert.Equal(0, next.Data.Length);
        Assert.Equal(0x04, next.Flags);                               // T=0, C=0, CSG=1
        Assert.Null(n.Receive(Response(next, 1, 3, true, "DataDigest=None\0", tsih: 1)));
        Assert.False(n.Result.HeaderDigest);
    }

    [Fact]
    public void Answers_outside_the_offer_are_protocol_errors()
    {
        var n = new LoginNegotiator(Settings());
        Assert.Throws<IscsiProtocolException>(() => n.Receive(Response(n.Start(), 1, 3, true, "DataDigest=CRC32C\0", tsih: 1)));
    }

    [Property(MaxTest = 500)]
    public void Arbitrary_response_text_never_crashes_the_state_machine(byte[] text, bool transit, byte flags, bool chap)
    {
        var n = new LoginNegotiator(Settings(chap ? new ChapCredentials("u", "s"u8.ToArray()) { TargetSecret = "m"u8.ToArray() } : null));
        var request = n.Start();
        try
        {
            for (int round = 0; round < 4 && request is not null; round++)
            {
                var response = Response(request, chap && round < 3 ? 0 : 1, (flags & 1) == 0 ? 3 : 1, transit, "", tsih: 1);
                response.Data = text;
                response.Flags ^= (byte)(flags & 0x4C);
                request = n.Receive(response);
            }
        }
        catch (IscsiProtocolException) { }
        catch (IscsiLoginException) { }
    }
}
