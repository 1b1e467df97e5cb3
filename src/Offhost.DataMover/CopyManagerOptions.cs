using Offhost.Scsi.ExtendedCopy;

namespace Offhost.DataMover;

/// <summary>Tuning and limits of a <see cref="CopyManager"/>. Immutable.</summary>
public sealed record CopyManagerOptions
{
    /// <summary>The limits enforced and reported by RECEIVE COPY RESULTS OPERATING PARAMETERS.</summary>
    public OperatingParameters OperatingParameters { get; init; } = OperatingParameters.Default;

    /// <summary>Target size in bytes of one read from a block device; adjacent ranges are coalesced up to this.</summary>
    public int ReadChunkBytes { get; init; } = 4 << 20;

    /// <summary>Reads in flight ahead of the writer (and buffers in the fixed pool, plus one being written).</summary>
    public int ReadsInFlight { get; init; } = 4;

    public static CopyManagerOptions Default { get; } = new();
}
