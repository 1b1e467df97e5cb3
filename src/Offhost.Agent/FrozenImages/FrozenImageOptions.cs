namespace Offhost.Agent.FrozenImages;

/// <summary>Options for <see cref="FrozenImageService.CreateAsync"/>.</summary>
public sealed record FrozenImageOptions
{
    /// <summary>Upper bound for <see cref="MaxFreeze"/>: a file system frozen longer stalls every writer on the host.</summary>
    public static readonly TimeSpan MaxFreezeLimit = TimeSpan.FromHours(1);

    public SnapshotProvider Provider { get; init; } = SnapshotProvider.Auto;

    public QuiesceOptions Quiesce { get; init; } = QuiesceOptions.Default;

    /// <summary>Longest time a file system stays frozen (default 10 min, at most <see cref="MaxFreezeLimit"/>); after it
    /// the file system is thawed and <see cref="FrozenImage.Expired"/> fires.</summary>
    public TimeSpan MaxFreeze { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Where reflink clones go; default: next to the image (it must be the same file system).</summary>
    public string? SnapshotDirectory { get; init; }

    /// <summary>Runs while the file systems are frozen, right after the snapshot point (e.g. to map files with FIEMAP or
    /// note state). It delays the thaw: keep it short.</summary>
    public Func<FrozenImage, CancellationToken, Task>? WhileFrozen { get; init; }

    internal void Validate()
    {
        Quiesce.Validate();
        if (MaxFreeze <= TimeSpan.Zero || MaxFreeze > MaxFreezeLimit)
            throw new ArgumentOutOfRangeException(nameof(MaxFreeze), MaxFreeze, $"must be in (0, {MaxFreezeLimit}]");
    }
}
