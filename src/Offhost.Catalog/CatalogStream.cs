using System.IO.Hashing;

namespace Offhost.Catalog;

/// <summary>One data stream of a catalogued file (the unnamed stream has the empty name).</summary>
public sealed record CatalogStream(string Name, long SizeBytes)
{
    public TapeLocation? Location { get; init; }

    /// <summary>xxHash64 (seed 0) of the stream's bytes as written to the archive; null if not computed.</summary>
    public ulong? XxHash64 { get; init; }

    /// <summary>The checksum the catalog stores for a stream: xxHash64 with seed 0 (for data that arrives in pieces,
    /// use <see cref="XxHash64"/>'s incremental <c>Append</c>/<c>GetCurrentHashAsUInt64</c>, which gives the same value).</summary>
    public static ulong Checksum(ReadOnlySpan<byte> data) => System.IO.Hashing.XxHash64.HashToUInt64(data);

    /// <summary>The device extents the stream was copied from, in stream order.</summary>
    public IReadOnlyList<SourceExtent> Extents { get; init; } = [];
}
