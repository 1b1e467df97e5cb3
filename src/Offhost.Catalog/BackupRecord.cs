namespace Offhost.Catalog;

/// <summary>One backup as the catalog knows it. Immutable snapshot of a row; re-read it after changes.</summary>
public sealed record BackupRecord
{
    /// <summary>Sortable id: <c>yyyyMMddTHHmmssZ-xxxxxxxx</c> (UTC start time and 8 random hex digits).</summary>
    public required string Id { get; init; }
    public required IReadOnlyList<BackupSource> Sources { get; init; }
    public required BackupStatus Status { get; init; }

    /// <summary><see cref="Status"/> as users see it: running, good, failed or incomplete.</summary>
    public string StatusName => Status.ToString().ToLowerInvariant();
    public required DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>When the frozen image (snapshot) was taken: the point in time the backup shows.</summary>
    public DateTimeOffset? FrozenImageAt { get; init; }

    /// <summary>Snapshot provider used for the frozen image (<c>reflink</c>, <c>freeze</c>, <c>none</c>).</summary>
    public string? SnapshotProvider { get; init; }

    /// <summary>Bytes of file data written to the archive.</summary>
    public long Bytes { get; init; }
    public long Files { get; init; }

    /// <summary>True when data moved during the backup and part of the map had to be recomputed.</summary>
    public bool Remapped { get; init; }

    /// <summary>What the remap changed, in words (files, extents); null when no remap happened.</summary>
    public string? RemapDetails { get; init; }

    public string? Error { get; init; }

    /// <summary>When the backup was last read back and checked against its checksums, and whether all matched.</summary>
    public DateTimeOffset? VerifiedAt { get; init; }
    public bool? VerifyOk { get; init; }

    /// <summary>The process that runs (or ran) the backup: pid, its start time in clock ticks since boot, and the boot id.</summary>
    public ProcessIdentity? Owner { get; init; }
}
