using System.Globalization;
using System.Security.Cryptography;
using Offhost.Iscsi.Pdu;
using Offhost.Iscsi.Text;

namespace Offhost.Iscsi.Login;

/// <summary>
/// The initiator's side of an iSCSI login (RFC 7143 §6.3, §12, §13) as a pure state machine: <see cref="Start"/>
/// gives the first Login Request, <see cref="Receive"/> takes each Login Response and returns the next request,
/// or null once the target has moved the connection to Full Feature Phase. Without CHAP credentials the
/// security stage is skipped (first PDU CSG=1, NSG=3, T=1); with them, AuthMethod=CHAP,None, CHAP_A=5, then
/// CHAP_N/CHAP_R (plus CHAP_I/CHAP_C of our own for mutual CHAP, whose answer is checked). Operational keys
/// are combined by the RFC's result functions; a target answer outside what was offered is a protocol error.
/// No I/O. Not thread-safe.
/// </summary>
public sealed class LoginNegotiator
{
    /// <summary>Login text per PDU is limited to 8192 bytes (RFC 7143 §6.2).</summary>
    public const int MaxLoginDataBytes = 8192;

    enum ChapStep { None, SentAuthMethod, SentAlgorithm, SentResponse, Done }

    readonly LoginSettings _settings;
    readonly Dictionary<string, string> _offered = new(StringComparer.Ordinal);
    TextParameters _continued = new();
    LoginStage _stage;
    ChapStep _chap;
    SessionParameters _result;
    bool _started;

    public LoginNegotiator(LoginSettings settings)
    {
        _settings = settings;
        _result = SessionParameters.Defaults with
        {
            MaxRecvDataSegmentLengthBytes = settings.Proposal.MaxRecvDataSegmentLengthBytes,
        };
    }

    public bool IsComplete { get; private set; }

    /// <summary>The agreed parameters; meaningful once <see cref="IsComplete"/>.</summary>
    public SessionParameters Result => _result;

    public ushort Tsih { get; private set; }
    public uint ExpStatSN { get; private set; }
    public uint ExpCmdSN { get; private set; }
    public uint MaxCmdSN { get; private set; }
    public int? TargetPortalGroupTag { get; private set; }
    public string? TargetAlias { get; private set; }

    /// <summary>The first Login Request.</summary>
    public IscsiPdu Start()
    {
        if (_started) throw new InvalidOperationException("login already started");
        _started = true;
        var keys = new TextParameters();
        keys.Add("InitiatorName", _settings.InitiatorName);
        if (_settings.TargetName is { } target) keys.Add("TargetName", target);
        keys.Add("SessionType", _settings.IsDiscovery ? "Discovery" : "Normal");
        if (_settings.Chap is not null)
        {
            _stage = LoginStage.SecurityNegotiation;
            _chap = ChapStep.SentAuthMethod;
            keys.Add("AuthMethod", "CHAP,None");
            return Request(LoginStage.LoginOperationalNegotiation, transit: true, keys);
        }
        _stage = LoginStage.LoginOperationalNegotiation;
        AddOperationalKeys(keys);
        return Request(LoginStage.FullFeaturePhase, transit: true, keys);
    }

    /// <summary>Consumes a Login Response; returns the next Login Request, or null when login is complete.
    /// Throws <see cref="IscsiLoginException"/> when the target refuses or fails authentication and
    /// <see cref="IscsiProtocolException"/> when the response breaks the protocol.</summary>
    public IscsiPdu? Receive(IscsiPdu response)
    {
        if (!_started || IsComplete) throw new InvalidOperationException("no login response is expected now");
        if (response.Opcode != IscsiOpcode.LoginResponse)
            throw new IscsiProtocolException($"expected a Login Response during login, received {response.Opcode}");
        byte statusClass = response.Header[36], statusDetail = response.Header[37];
        if (statusClass != 0)
        {
            string where = _settings.TargetName ?? "discovery session";
            if (statusClass == 1)
            {
                string? address = SafeParse(response.Data.Span)?["TargetAddress"];
                throw new IscsiLoginException($"{where}: the target redirects to {address ?? "an unspecified address"} (status {statusClass:X2}h/{statusDetail:X2}h); connect to that portal instead");
            }
            if (statusClass == 2 && statusDetail == 1 && _settings.Chap?.IsMutual == true)
                where += " (mutual CHAP was requested: the target needs an outgoing account for it)";
            throw new IscsiLoginException(statusClass, statusDetail, where);
        }
        if (response.InitiatorTaskTag != _settings.InitiatorTaskTag)
            throw new IscsiProtocolException($"Login Response ITT {response.InitiatorTaskTag:X8}h does not match the request's {_settings.InitiatorTaskTag:X8}h");
        if (response.Byte3 != 0)
            throw new IscsiProtocolException($"target's active version {response.Byte3} is not 0");
        ExpStatSN = response.StatSN + 1;
        ExpCmdSN = response.ExpCmdSN;
        MaxCmdSN = response.MaxCmdSN;

        bool transit = (response.Flags & 0x80) != 0;
        bool more = (response.Flags & 0x40) != 0;
        var csg = (LoginStage)((response.Flags >> 2) & 3);
        var nsg = (LoginStage)(response.Flags & 3);
        if (transit && more) throw new IscsiProtocolException("Login Response has both T and C set");
        if (csg != _stage) throw new IscsiProtocolException($"Login Response is in stage {csg}, expected {_stage}");

        _continued.AddRange(TextParameters.Parse(response.Data.Span));
        if (more)
            return Request(NextStageOfCurrent(), transit: false, new TextParameters());
        var keys = _continued;
        _continued = new TextParameters();

        if (transit && (nsg == LoginStage.SecurityNegotiation || (byte)nsg == 2 || nsg <= _stage))
            throw new IscsiProtocolException($"target transits from {_stage} to invalid stage {(byte)nsg}");

        return _stage == LoginStage.SecurityNegotiation
            ? Security(keys, transit, nsg)
            : Operational(keys, transit, nsg, response);
    }

    LoginStage NextStageOfCurrent() =>
        _stage == LoginStage.SecurityNegotiation ? LoginStage.LoginOperationalNegotiation : LoginStage.FullFeaturePhase;

    IscsiPdu? Security(TextParameters keys, bool transit, LoginStage nsg)
    {
        var chap = _settings.Chap!;
        switch (_chap)
        {
            case ChapStep.SentAuthMethod:
                string? method = keys["AuthMethod"];
                if (method == "CHAP")
                {
                    if (transit) throw new IscsiProtocolException("target chose CHAP but left the security stage before authenticating");
                    _chap = ChapStep.SentAlgorithm;
                    var a = new TextParameters();
                    a.Add("CHAP_A", Chap.Md5Algorithm.ToString(CultureInfo.InvariantCulture));
                    return Request(LoginStage.LoginOperationalNegotiation, transit: false, a);
                }
                if (method is "None" or null)
                {
                    if (chap.IsMutual)
                        throw new IscsiLoginException($"{_settings.TargetName ?? "discovery session"}: the target does not use CHAP (AuthMethod=None), so it cannot prove the mutual CHAP secret; refusing to continue");
                    _chap = ChapStep.Done;
                    return transit ? StartOperational() : Request(LoginStage.LoginOperationalNegotiation, transit: true, new TextParameters());
                }
                throw new IscsiProtocolException($"target chose AuthMethod={method}, which was not offered");

            case ChapStep.SentAlgorithm:
            {
                string? algorithm = keys["CHAP_A"];
                if (algorithm != "5")
                    throw new IscsiLoginException($"{_settings.TargetName ?? "discovery session"}: the target chose CHAP_A={algorithm ?? "(none)"}; only MD5 (5) is supported");
                string id = keys["CHAP_I"] ?? throw new IscsiProtocolException("target's CHAP challenge has no CHAP_I");
                string c = keys["CHAP_C"] ?? throw new IscsiProtocolException("target's CHAP challenge has no CHAP_C");
                byte identifier = (byte)TextValues.ParseNumber("CHAP_I", id, 0, 255);
                byte[] challenge = TextValues.ParseBinary("CHAP_C", c);
                if (challenge.Length == 0) throw new IscsiProtocolException("target's CHAP_C is empty");
                var r = new TextParameters();
                r.Add("CHAP_N", chap.UserName);
                r.Add("CHAP_R", TextValues.Hex(Chap.Response(identifier, chap.Secret, challenge)));
                if (chap.IsMutual)
                {
                    if (_settings.MutualChapChallenge.Length == 0)
                        throw new InvalidOperationException("mutual CHAP needs a challenge in LoginSettings.MutualChapChallenge");
                    if (_settings.MutualChapChallenge.AsSpan().SequenceEqual(challenge))
                        throw new IscsiLoginException("the target's CHAP challenge equals ours (a reflection attack?); refusing to answer");
                    r.Add("CHAP_I", _settings.MutualChapIdentifier.ToString(CultureInfo.InvariantCulture));
                    r.Add("CHAP_C", TextValues.Hex(_settings.MutualChapChallenge));
                }
                _chap = ChapStep.SentResponse;
                return Request(LoginStage.LoginOperationalNegotiation, transit: true, r);
            }

            case ChapStep.SentResponse:
                if (chap.IsMutual)
                {
                    string? name = keys["CHAP_N"];
                    string? answer = keys["CHAP_R"];
                    if (name is null || answer is null)
                        throw new IscsiLoginException($"{_settings.TargetName ?? "discovery session"}: the target did not answer the mutual CHAP challenge (is a mutual/outgoing account configured on the target?)");
                    if (chap.TargetUserName is { } expectedName && name != expectedName)
                        throw new IscsiLoginException($"mutual CHAP: the target calls itself '{name}', expected '{expectedName}'");
                    byte[] expected = Chap.Response(_settings.MutualChapIdentifier, chap.TargetSecret, _settings.MutualChapChallenge);
                    byte[] actual = TextValues.ParseBinary("CHAP_R", answer);
                    if (!CryptographicOperations.FixedTimeEquals(expected, actual))
                        throw new IscsiLoginException("mutual CHAP failed: the target's response is wrong, so it does not know the mutual secret");
                }
                _chap = ChapStep.Done;
                return transit ? StartOperational() : Request(LoginStage.LoginOperationalNegotiation, transit: true, new TextParameters());

            default:
                return transit ? StartOperational() : Request(LoginStage.LoginOperationalNegotiation, transit: true, new TextParameters());
        }
    }

    IscsiPdu StartOperational()
    {
        _stage = LoginStage.LoginOperationalNegotiation;
        var keys = new TextParameters();
        AddOperationalKeys(keys);
        return Request(LoginStage.FullFeaturePhase, transit: true, keys);
    }

    void AddOperationalKeys(TextParameters keys)
    {
        var p = _settings.Proposal;
        Offer(keys, "HeaderDigest", DigestOffer(p.HeaderDigest));
        Offer(keys, "DataDigest", DigestOffer(p.DataDigest));
        keys.Add("MaxRecvDataSegmentLength", p.MaxRecvDataSegmentLengthBytes.ToString(CultureInfo.InvariantCulture));
        if (_settings.IsDiscovery) return;
        Offer(keys, "InitialR2T", TextValues.Bool(p.InitialR2T));
        Offer(keys, "ImmediateData", TextValues.Bool(p.ImmediateData));
        Offer(keys, "MaxBurstLength", Num(p.MaxBurstLengthBytes));
        Offer(keys, "FirstBurstLength", Num(p.FirstBurstLengthBytes));
        Offer(keys, "MaxOutstandingR2T", Num(p.MaxOutstandingR2T));
        Offer(keys, "DataPDUInOrder", TextValues.Bool(p.DataPduInOrder));
        Offer(keys, "DataSequenceInOrder", TextValues.Bool(p.DataSequenceInOrder));
        Offer(keys, "ErrorRecoveryLevel", "0");
        Offer(keys, "DefaultTime2Wait", Num(p.DefaultTime2WaitSeconds));
        Offer(keys, "DefaultTime2Retain", Num(p.DefaultTime2RetainSeconds));
        Offer(keys, "MaxConnections", "1");
        Offer(keys, "IFMarker", "No");
        Offer(keys, "OFMarker", "No");
    }

    string DigestOffer(bool wanted) => !wanted ? "None" : _settings.RequireDigests ? "CRC32C" : "CRC32C,None";

    static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);

    void Offer(TextParameters keys, string key, string value)
    {
        keys.Add(key, value);
        _offered[key] = value;
    }

    IscsiPdu? Operational(TextParameters keys, bool transit, LoginStage nsg, IscsiPdu response)
    {
        var reply = new TextParameters();
        foreach (var (key, value) in keys.Pairs)
        {
            if (Declarative(key, value)) continue;
            if (_offered.Remove(key, out var ours)) Answered(key, ours, value);
            else TargetOffers(key, value, reply);
        }
        if (!transit)
            return Request(LoginStage.FullFeaturePhase, transit: true, reply);
        if (nsg != LoginStage.FullFeaturePhase)
            throw new IscsiProtocolException($"target transits from the operational stage to {nsg}");
        if (reply.Count > 0)
            throw new IscsiProtocolException($"target ended login while offering keys that need an answer ({string.Join(", ", reply.Pairs.Select(p => p.Key))})");
        if (response.Tsih == 0 && !_settings.IsDiscovery && _settings.Tsih == 0)
            throw new IscsiProtocolException("final Login Response carries TSIH 0");
        if (_settings.RequireDigests && (_result.HeaderDigest != _settings.Proposal.HeaderDigest || _result.DataDigest != _settings.Proposal.DataDigest))
            throw new IscsiLoginException("the target did not agree to CRC32C digests, which were required");
        Tsih = response.Tsih;
        _result = _result with
        {
            FirstBurstLengthBytes = Math.Min(_result.FirstBurstLengthBytes, _result.MaxBurstLengthBytes),
        };
        IsComplete = true;
        return null;
    }

    bool Declarative(string key, string value)
    {
        switch (key)
        {
            case "MaxRecvDataSegmentLength":
                _offered.Remove(key);
                _result = _result with { TargetMaxRecvDataSegmentLengthBytes = (int)TextValues.ParseNumber(key, value, 512, IscsiPdu.MaxDataSegmentLength) };
                return true;
            case "TargetPortalGroupTag":
                TargetPortalGroupTag = (int)TextValues.ParseNumber(key, value, 0, 65535);
                return true;
            case "TargetAlias":
                TargetAlias = value;
                return true;
            case "TargetAddress":
                return true;
            default:
                return false;
        }
    }

    /// <summary>The target's answer to a key we offered.</summary>
    void Answered(string key, string ours, string value)
    {
        if (value is "Irrelevant") return;
        if (value is "NotUnderstood" or "Reject")
        {
            if (key is "HeaderDigest" or "DataDigest" && _settings.RequireDigests)
                throw new IscsiLoginException($"the target answered {key}={value}; CRC32C digests were required");
            return;                                        // the RFC default stays in force
        }
        switch (key)
        {
            case "HeaderDigest" or "DataDigest":
                if (value == "None" && _settings.RequireDigests)
                    throw new IscsiLoginException($"the target refused CRC32C {key} (answered None), which was required; enable digests on the target or do not require them");
                if (value is not ("None" or "CRC32C") || !ours.Split(',').Contains(value))
                    throw new IscsiProtocolException($"target answered {key}={value}, which was not offered ({ours})");
                _result = key == "HeaderDigest" ? _result with { HeaderDigest = value == "CRC32C" } : _result with { DataDigest = value == "CRC32C" };
                break;
            default:
                Apply(key, ours, value, out _);
                break;
        }
    }

    /// <summary>A key the target offered first: answer it with the result function's value.</summary>
    void TargetOffers(string key, string value, TextParameters reply)
    {
        var p = _settings.Proposal;
        string? ours = key switch
        {
            "HeaderDigest" => DigestOffer(p.HeaderDigest),
            "DataDigest" => DigestOffer(p.DataDigest),
            "InitialR2T" => TextValues.Bool(p.InitialR2T),
            "ImmediateData" => TextValues.Bool(p.ImmediateData),
            "MaxBurstLength" => Num(p.MaxBurstLengthBytes),
            "FirstBurstLength" => Num(p.FirstBurstLengthBytes),
            "MaxOutstandingR2T" => Num(p.MaxOutstandingR2T),
            "DataPDUInOrder" => TextValues.Bool(p.DataPduInOrder),
            "DataSequenceInOrder" => TextValues.Bool(p.DataSequenceInOrder),
            "ErrorRecoveryLevel" => "0",
            "DefaultTime2Wait" => Num(p.DefaultTime2WaitSeconds),
            "DefaultTime2Retain" => Num(p.DefaultTime2RetainSeconds),
            "MaxConnections" => "1",
            "IFMarker" or "OFMarker" => "No",
            _ => null,
        };
        if (ours is null)
        {
            reply.Add(key, "NotUnderstood");
            return;
        }
        if (key is "HeaderDigest" or "DataDigest")
        {
            var mine = ours.Split(',');
            string? pick = value.Split(',').FirstOrDefault(v => mine.Contains(v));
            if (pick is null) throw new IscsiLoginException($"no common {key}: target offers {value}, we accept {ours}");
            reply.Add(key, pick);
            _result = key == "HeaderDigest" ? _result with { HeaderDigest = pick == "CRC32C" } : _result with { DataDigest = pick == "CRC32C" };
            return;
        }
        Apply(key, ours, value, out string answer);
        reply.Add(key, answer);
    }

    void Apply(string key, string ours, string theirs, out string result)
    {
        switch (key)
        {
            case "InitialR2T" or "DataPDUInOrder" or "DataSequenceInOrder":
            {
                bool r = TextValues.ParseBool(key, ours) || TextValues.ParseBool(key, theirs);
                result = TextValues.Bool(r);
                _result = key switch
                {
                    "InitialR2T" => _result with { InitialR2T = r },
                    "DataPDUInOrder" => _result with { DataPduInOrder = r },
                    _ => _result with { DataSequenceInOrder = r },
                };
                return;
            }
            case "ImmediateData" or "IFMarker" or "OFMarker":
            {
                bool r = TextValues.ParseBool(key, ours) && TextValues.ParseBool(key, theirs);
                result = TextValues.Bool(r);
                if (key == "ImmediateData") _result = _result with { ImmediateData = r };
                else if (r) throw new IscsiProtocolException($"target insists on {key}=Yes; markers are not supported");
                return;
            }
            case "DefaultTime2Wait":
            {
                int r = (int)Math.Max(long.Parse(ours, CultureInfo.InvariantCulture), TextValues.ParseNumber(key, theirs, 0, 3600));
                result = Num(r);
                _result = _result with { DefaultTime2WaitSeconds = r };
                return;
            }
            default:
            {
                (long min, long max) = key switch
                {
                    "MaxBurstLength" or "FirstBurstLength" => (512L, (long)IscsiPdu.MaxDataSegmentLength),
                    "MaxOutstandingR2T" or "MaxConnections" => (1L, 65535L),
                    "ErrorRecoveryLevel" => (0L, 2L),
                    "DefaultTime2Retain" => (0L, 3600L),
                    _ => throw new IscsiProtocolException($"target answered {key}, which was not offered"),
                };
                int r = (int)Math.Min(long.Parse(ours, CultureInfo.InvariantCulture), TextValues.ParseNumber(key, theirs, min, max));
                result = Num(r);
                _result = key switch
                {
                    "MaxBurstLength" => _result with { MaxBurstLengthBytes = r },
                    "FirstBurstLength" => _result with { FirstBurstLengthBytes = r },
                    "MaxOutstandingR2T" => _result with { MaxOutstandingR2T = r },
                    "MaxConnections" => _result with { MaxConnections = r },
                    "ErrorRecoveryLevel" => _result with { ErrorRecoveryLevel = r },
                    _ => _result with { DefaultTime2RetainSeconds = r },
                };
                return;
            }
        }
    }

    IscsiPdu Request(LoginStage nsg, bool transit, TextParameters keys)
    {
        var data = keys.Encode();
        if (data.Length > MaxLoginDataBytes)
            throw new InvalidOperationException($"login text of {data.Length} bytes exceeds {MaxLoginDataBytes}");
        var pdu = new IscsiPdu(IscsiOpcode.LoginRequest) { Immediate = true };
        pdu.Flags = (byte)((transit ? 0x80 : 0) | ((byte)_stage << 2) | (transit ? (byte)nsg : 0));
        pdu.Isid = _settings.Isid;
        pdu.Tsih = _settings.Tsih;
        pdu.InitiatorTaskTag = _settings.InitiatorTaskTag;
        pdu.Cid = _settings.ConnectionId;
        pdu.CmdSN = _settings.InitialCmdSN;
        pdu.ExpStatSN = ExpStatSN;
        pdu.Data = data;
        return pdu;
    }

    static TextParameters? SafeParse(ReadOnlySpan<byte> data)
    {
        try { return TextParameters.Parse(data); }
        catch (IscsiProtocolException) { return null; }
    }
}
