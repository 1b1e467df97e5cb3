namespace Offhost.Core.Units;

/// <summary>A logical block address: an index of a block of the device's logical block size, counted from
/// the start of the device (never from the start of a partition). Never a byte offset.</summary>
public readonly record struct Lba(long Value) : IComparable<Lba>
{
    /// <summary>The byte offset of this block on a device whose blocks are <paramref name="blockSizeBytes"/> long.</summary>
    public long ToByteOffset(int blockSizeBytes) => checked(Value * blockSizeBytes);

    /// <summary>The block holding byte <paramref name="byteOffset"/>; the offset must be block aligned.</summary>
    public static Lba FromAlignedByteOffset(long byteOffset, int blockSizeBytes)
    {
        if (byteOffset < 0 || byteOffset % blockSizeBytes != 0)
            throw new ArgumentOutOfRangeException(nameof(byteOffset), byteOffset, $"not a multiple of the block size {blockSizeBytes}");
        return new Lba(byteOffset / blockSizeBytes);
    }

    public int CompareTo(Lba other) => Value.CompareTo(other.Value);
    public override string ToString() => $"LBA {Value}";
}

/// <summary>A number of logical blocks of a device. Never a byte count.</summary>
public readonly record struct BlockCount(long Value)
{
    public long ToBytes(int blockSizeBytes) => checked(Value * blockSizeBytes);

    /// <summary>The number of whole blocks needed to hold <paramref name="bytes"/> bytes.</summary>
    public static BlockCount Covering(long bytes, int blockSizeBytes) => new((bytes + blockSizeBytes - 1) / blockSizeBytes);

    public override string ToString() => $"{Value} blocks";
}
