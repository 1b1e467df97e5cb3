using Offhost.Iscsi.Login;

namespace Offhost.Iscsi.Initiator;

/// <summary>Tunables of the initiator. Immutable; share freely.</summary>
public sealed record IscsiInitiatorOptions
{
    /// <summary>Our iSCSI name; defaults to iqn.2024-01.org.offhost:HOSTNAME.</summary>
    public string InitiatorName { get; init; } = DefaultInitiatorName();

    /// <summary>Commands in flight per session (also bounded by the target's CmdSN window).</summary>
    public int QueueDepth { get; init; } = 8;

    /// <summary>Largest transfer of one READ/WRITE command, bytes; larger requests are split.</summary>
    public int MaxTransferBytes { get; init; } = 1024 * 1024;

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan LoginTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a command may wait for its status before the connection is declared dead.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Idle time after which a NOP-Out ping checks the connection; zero disables pings.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a NOP-Out ping or a Logout may wait for its answer.</summary>
    public TimeSpan PingTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a read is retried on a new session after the connection dropped.</summary>
    public int MaxReconnectAttempts { get; init; } = 3;

    /// <summary>Request CRC32C header and data digests (offered as "CRC32C,None" unless <see cref="RequireDigests"/>).</summary>
    public bool HeaderDigest { get; init; }
    public bool DataDigest { get; init; }
    public bool RequireDigests { get; init; }

    /// <summary>Operational proposal (MaxRecvDataSegmentLength, bursts, R2T policy). Digest fields are taken from
    /// <see cref="HeaderDigest"/>/<see cref="DataDigest"/>.</summary>
    public SessionParameters Proposal { get; init; } = new()
    {
        MaxRecvDataSegmentLengthBytes = 256 * 1024,
        MaxBurstLengthBytes = 1024 * 1024,
        FirstBurstLengthBytes = 256 * 1024,
        ImmediateData = true,
        InitialR2T = false,
        MaxOutstandingR2T = 1,
        DefaultTime2WaitSeconds = 2,
        DefaultTime2RetainSeconds = 0,
    };

    /// <summary>Open block devices read-only: writes throw <see cref="InvalidOperationException"/>.</summary>
    public bool ReadOnly { get; init; }

    internal SessionParameters EffectiveProposal => Proposal with { HeaderDigest = HeaderDigest, DataDigest = DataDigest };

    static string DefaultInitiatorName()
    {
        string host = new string(Environment.MachineName.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '-').ToArray());
        return $"iqn.2024-01.org.offhost:{(host.Length == 0 ? "host" : host)}";
    }
}
