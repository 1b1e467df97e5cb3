using System.Buffers.Binary;

namespace Offhost.Iscsi.Tests.Integration;

/// <summary>Reads a tgtimg tape image (TGT_TAPE_VERSION 2: a chain of 48-byte big-endian headers from offset 1152),
/// the ground truth of what tgt wrote.</summary>
public static class TgtTapeImage
{
    public sealed record Block(uint Type, byte[] Data)
    {
        public bool IsData => Type is 1 or 2;
        public bool IsFilemark => Type == 0x40;
        public bool IsEndOfData => Type == 0x20;
    }

    public static List<Block> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var blocks = new List<Block>();
        long at = 1152;
        while (at + 48 <= bytes.Length && blocks.Count < 1_000_000)
        {
            var h = bytes.AsSpan((int)at, 48);
            uint onDisk = BinaryPrimitives.ReadUInt32BigEndian(h[4..]);
            uint type = BinaryPrimitives.ReadUInt32BigEndian(h[12..]);
            long next = BinaryPrimitives.ReadInt64BigEndian(h[40..]);
            blocks.Add(new Block(type, bytes.AsSpan((int)at + 48, (int)onDisk).ToArray()));
            if (type == 0x20) break;
            at = next;
        }
        return blocks;
    }
}
