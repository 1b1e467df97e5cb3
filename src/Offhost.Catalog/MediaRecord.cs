namespace Offhost.Catalog;

/// <summary>A tape (or tape image) known to the catalog, by its volume label.</summary>
public sealed record MediaRecord(string Label, long CapacityBytes)
{
    public DateTimeOffset? FirstUsedAt { get; init; }

    /// <summary>Where the medium was last written or read: a .tap path or an iscsi:// address without credentials.
    /// Restores look for the tape there unless told otherwise.</summary>
    public string? Location { get; init; }
}
