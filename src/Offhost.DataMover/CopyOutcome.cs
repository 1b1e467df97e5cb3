namespace Offhost.DataMover;

/// <summary>What an EXTENDED COPY did: segments fully processed and bytes written to destination devices.</summary>
public sealed record CopyOutcome(int SegmentsProcessed, long TransferredBytes)
{
    public static CopyOutcome Nothing { get; } = new(0, 0);
}
