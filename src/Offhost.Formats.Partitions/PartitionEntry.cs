namespace Offhost.Formats.Partitions;

/// <summary>One partition of a partition table.</summary>
/// <param name="Number">1-based number as Linux numbers it (MBR: 1-4 primary, 5+ logical; GPT: entry index + 1).</param>
/// <param name="StartBytes">Offset of the partition's first byte on the disk.</param>
/// <param name="LengthBytes">Size of the partition in bytes.</param>
/// <param name="Type">MBR type byte as two hex digits, or the GPT partition type GUID.</param>
public sealed record PartitionEntry(int Number, long StartBytes, long LengthBytes, string Type)
{
    /// <summary>GPT partition name; null for MBR.</summary>
    public string? Name { get; init; }

    /// <summary>GPT unique partition GUID; null for MBR.</summary>
    public Guid? UniqueId { get; init; }
}

/// <summary>The kind of partition table found on a disk.</summary>
public enum PartitionScheme { None, Mbr, Gpt }

/// <summary>A disk's partition table: its scheme and partitions in table order.</summary>
public sealed record PartitionTable(PartitionScheme Scheme, IReadOnlyList<PartitionEntry> Partitions)
{
    /// <summary>GPT disk GUID or MBR disk signature (8 hex digits); null when absent.</summary>
    public string? DiskId { get; init; }
}
