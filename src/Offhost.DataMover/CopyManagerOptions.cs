using Offhost.Scsi.ExtendedCopy;

namespace Offhost.DataMover;

/// <summary>Tuning and limits of a <see cref="CopyManager"/>. Immutable.</summary>
public sealed record CopyManagerOptions
{
    /// <summary>The limits enforced and reported by RECEIVE COPY RESULTS OPERATING PARAMETERS.</summary>
    public OperatingParameters OperatingParameters { get; init; } = OperatingParameters.Default;

    /// <summary>Target size in bytes of one read from a block device; adjacent ranges are coalesced up to this. Large reads
    /// matter more than many: on Linux each asynchronous read costs a thread-pool hop, and on a busy host every hop waits for
    /// the scheduler (bench/xcopy-engine.sh).</summary>
    public int ReadChunkBytes { get; init; } = 16 << 20;

    /// <summary>Reads in flight ahead of the writer; the fixed buffer pool holds one more (the one being written).
    /// Memory used by a block→stream run is about (ReadsInFlight + 1) × ReadChunkBytes.</summary>
    public int ReadsInFlight { get; init; } = 2;

    /// <summary>Flush (fsync) every destination when a parameter list completes, so that a GOOD status means the data is on
    /// the medium. A job that runs many lists and flushes once at its end (a backup or a volume restore: a small-file
    /// volume is hundreds of lists) turns this off; each flush is a disk cache flush, tens of milliseconds here.</summary>
    public bool FlushAtListEnd { get; init; } = true;

    /// <summary>Read runs of small ranges (files of up to 1 MiB) in ascending device order, a window at a time, reading through
    /// gaps of up to 64 KiB, and hand them on in their own order: a directory's files are rarely next to each other on the
    /// device, and reading them in archive order is a seek per file on a cold disk (bench/README.md).</summary>
    public bool ReadSmallPiecesInDeviceOrder { get; init; } = true;

    public static CopyManagerOptions Default { get; } = new();
}
