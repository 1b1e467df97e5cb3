namespace Offhost.Iscsi.Login;

/// <summary>What the initiator brings to a login: names, session identity, credentials and proposals.</summary>
public sealed record LoginSettings
{
    public required string InitiatorName { get; init; }
    /// <summary>Target IQN for a Normal session; null for a Discovery session.</summary>
    public string? TargetName { get; init; }
    /// <summary>48-bit ISID (type 10b = random in the top two bits).</summary>
    public ulong Isid { get; init; } = 0x800000000000UL;
    public ushort Tsih { get; init; }
    public ushort ConnectionId { get; init; }
    public uint InitiatorTaskTag { get; init; }
    /// <summary>CmdSN of the login; the first command after login uses the same number.</summary>
    public uint InitialCmdSN { get; init; } = 1;
    public ChapCredentials? Chap { get; init; }
    /// <summary>Mutual CHAP: identifier and challenge the initiator sends the target (chosen by the caller, random).</summary>
    public byte MutualChapIdentifier { get; init; }
    public byte[] MutualChapChallenge { get; init; } = [];
    /// <summary>What to propose; digests are offered as "CRC32C,None" when true.</summary>
    public SessionParameters Proposal { get; init; } = new();
    /// <summary>True: offer only CRC32C digests (login fails if the target refuses them).</summary>
    public bool RequireDigests { get; init; }

    public bool IsDiscovery => TargetName is null;
}
