namespace Offhost.Iscsi.Login;

/// <summary>
/// Operational parameters of a session and its connection (RFC 7143 §13). Before login it is what the
/// initiator proposes; after login, what was agreed. Lengths are bytes.
/// </summary>
public sealed record SessionParameters
{
    public bool HeaderDigest { get; init; }
    public bool DataDigest { get; init; }
    /// <summary>Largest data segment this initiator accepts in one PDU (declared to the target).</summary>
    public int MaxRecvDataSegmentLengthBytes { get; init; } = 256 * 1024;
    /// <summary>Largest data segment the target accepts (declared by it; 8192 unless it says otherwise).</summary>
    public int TargetMaxRecvDataSegmentLengthBytes { get; init; } = 8192;
    public int MaxBurstLengthBytes { get; init; } = 256 * 1024;
    public int FirstBurstLengthBytes { get; init; } = 64 * 1024;
    public bool ImmediateData { get; init; } = true;
    public bool InitialR2T { get; init; } = true;
    public int MaxOutstandingR2T { get; init; } = 1;
    public bool DataPduInOrder { get; init; } = true;
    public bool DataSequenceInOrder { get; init; } = true;
    public int ErrorRecoveryLevel { get; init; }
    public int DefaultTime2WaitSeconds { get; init; } = 2;
    public int DefaultTime2RetainSeconds { get; init; } = 20;
    public int MaxConnections { get; init; } = 1;

    /// <summary>Defaults of RFC 7143 §13, the values in force when a key is not negotiated.</summary>
    public static SessionParameters Defaults { get; } = new()
    {
        MaxRecvDataSegmentLengthBytes = 8192,
        MaxBurstLengthBytes = 262144,
        FirstBurstLengthBytes = 65536,
    };
}
