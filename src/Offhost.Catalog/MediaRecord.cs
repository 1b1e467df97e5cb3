namespace Offhost.Catalog;

/// <summary>A tape (or tape image) known to the catalog, by its volume label.</summary>
public sealed record MediaRecord(string Label, long CapacityBytes)
{
    public DateTimeOffset? FirstUsedAt { get; init; }
}
