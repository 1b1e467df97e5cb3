namespace Offhost.Core.Mapping;

/// <summary>
/// One data stream of a file: the unnamed stream (file data) or a named one (NTFS alternate data stream).
/// Either <see cref="ResidentData"/> is set (the bytes live in the metadata itself and are carried in the map),
/// or <see cref="Extents"/> describe where every byte of [0, <see cref="SizeBytes"/>) comes from.
/// </summary>
public sealed record MapStream(string Name, long SizeBytes)
{
    /// <summary>The stream's bytes when the file system keeps them in metadata (NTFS resident attribute, ext4 inline data).</summary>
    public ReadOnlyMemory<byte>? ResidentData { get; init; }

    /// <summary>Bytes up to here are stored; past it they read as zeros (NTFS valid data length). Equal to size when the format has no such notion.</summary>
    public long InitializedBytes { get; init; }

    public bool Compressed { get; init; }
    public bool Encrypted { get; init; }
    public bool Sparse { get; init; }

    /// <summary>LZNT1 compression unit in bytes for compressed streams, else 0.</summary>
    public int CompressionUnitBytes { get; init; }

    public IReadOnlyList<MapExtent> Extents { get; init; } = [];

    public bool IsResident => ResidentData is not null;
}
