namespace Offhost.Core.Mapping;

/// <summary>What a range of a stream is made of.</summary>
public enum ExtentKind
{
    /// <summary>Bytes stored on the device at <see cref="MapExtent.Lba"/>, read as they are.</summary>
    Data = 0,
    /// <summary>Bytes that read as zeros and are never read from the device: holes, sparse runs,
    /// unwritten (preallocated) extents and tails past the initialized size.</summary>
    Zero = 1,
    /// <summary>An LZNT1 compression unit: the logical range is produced by decompressing the bytes of
    /// <see cref="MapExtent.Runs"/>. See docs/formats/storage-map.md.</summary>
    Compressed = 2,
}

/// <summary>One physical run of a compressed extent, in device blocks.</summary>
public readonly record struct PhysicalRun(long Lba, long Blocks);

/// <summary>
/// A range of a stream, in bytes within the stream, and where its bytes come from. A stream's extents
/// cover [0, size) exactly, in order, with no overlap. <see cref="Lba"/> and <see cref="Blocks"/> are in
/// units of the volume's <see cref="VolumeInfo.BlockSizeBytes"/>, counted from the start of the device.
/// For <see cref="ExtentKind.Data"/>, <c>Blocks = ceil(Length / block size)</c>; bytes past
/// <see cref="Length"/> in the last block are not stream data.
/// </summary>
public readonly record struct MapExtent(long OffsetBytes, long LengthBytes, ExtentKind Kind, long Lba, long Blocks)
{
    /// <summary>The physical runs of a <see cref="ExtentKind.Compressed"/> extent, in order; empty otherwise.</summary>
    public IReadOnlyList<PhysicalRun> Runs { get; init; } = [];

    public long EndBytes => OffsetBytes + LengthBytes;

    public static MapExtent Data(long offsetBytes, long lengthBytes, long lba, int blockSizeBytes) =>
        new(offsetBytes, lengthBytes, ExtentKind.Data, lba, (lengthBytes + blockSizeBytes - 1) / blockSizeBytes);

    public static MapExtent Zero(long offsetBytes, long lengthBytes) => new(offsetBytes, lengthBytes, ExtentKind.Zero, 0, 0);
}
