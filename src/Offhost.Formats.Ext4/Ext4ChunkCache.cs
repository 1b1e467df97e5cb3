using Offhost.Core.Devices;

namespace Offhost.Formats.Ext4;

/// <summary>
/// A small direct-mapped cache of 64 KiB chunks of the volume, so inodes that sit next to each other in an inode
/// table cost one read between them. Fixed memory: <see cref="Slots"/> × <see cref="ChunkBytes"/> (8 MiB).
/// Not thread-safe.
/// </summary>
internal sealed class Ext4ChunkCache(IBlockSource volume)
{
    public const int ChunkBytes = 64 * 1024;
    const int Slots = 128;
    readonly byte[][] data = new byte[Slots][];
    readonly long[] keys = Enumerable.Repeat(-1L, Slots).ToArray();
    readonly int[] lengths = new int[Slots];

    public long BytesRead { get; private set; }

    /// <summary>Returns <paramref name="length"/> bytes at <paramref name="offsetBytes"/>; the range must not cross a chunk boundary.</summary>
    public ReadOnlySpan<byte> Get(long offsetBytes, int length)
    {
        long key = offsetBytes / ChunkBytes;
        int slot = (int)(key % Slots);
        int within = (int)(offsetBytes - key * ChunkBytes);
        if (keys[slot] != key)
        {
            long start = key * ChunkBytes;
            int n = (int)Math.Min(ChunkBytes, volume.LengthBytes - start);
            var buf = data[slot] ??= new byte[ChunkBytes];
            keys[slot] = -1;
            volume.ReadAt(start, buf.AsSpan(0, n));
            BytesRead += n;
            keys[slot] = key;
            lengths[slot] = n;
        }
        if (within + length > lengths[slot]) throw new EndOfStreamException($"read of {length} bytes at {offsetBytes} is past the end of the volume");
        return data[slot].AsSpan(within, length);
    }
}
