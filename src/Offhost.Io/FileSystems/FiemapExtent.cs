using System.Buffers.Binary;
using Offhost.Core.Errors;

namespace Offhost.Io.FileSystems;

/// <summary>
/// One <c>struct fiemap_extent</c> (56 bytes): a run of a file at <see cref="LogicalBytes"/> stored at
/// <see cref="PhysicalBytes"/> from the start of the file system's device, <see cref="LengthBytes"/> long.
/// </summary>
public readonly record struct FiemapExtent(long LogicalBytes, long PhysicalBytes, long LengthBytes, FiemapExtentFlags Flags)
{
    public const int SizeBytes = 56;
    public const int HeaderBytes = 32;

    /// <summary>True when the device bytes at <see cref="PhysicalBytes"/> are the file's bytes and can be copied as they are.</summary>
    public bool IsPlainData =>
        (Flags & (FiemapExtentFlags.Unknown | FiemapExtentFlags.Delalloc | FiemapExtentFlags.Encoded
            | FiemapExtentFlags.DataEncrypted | FiemapExtentFlags.DataInline | FiemapExtentFlags.DataTail
            | FiemapExtentFlags.NotAligned | FiemapExtentFlags.Unwritten)) == 0;

    public long EndLogicalBytes => LogicalBytes + LengthBytes;

    /// <summary>
    /// Decodes the extents of a FIEMAP reply: the 32-byte <c>struct fiemap</c> header (fm_mapped_extents at 20) followed
    /// by the extents. <paramref name="reply"/> is the buffer passed to the ioctl; <paramref name="capacity"/> is the
    /// fm_extent_count that was asked for. Values that cannot be right (count above capacity, lengths or offsets past
    /// 2^63) raise <see cref="CorruptStructureException"/> at the offset within the reply.
    /// </summary>
    public static FiemapExtent[] ParseReply(ReadOnlySpan<byte> reply, int capacity)
    {
        if (reply.Length < HeaderBytes) CorruptStructure.Truncated("struct fiemap", 0, HeaderBytes, reply.Length);
        uint mapped = BinaryPrimitives.ReadUInt32LittleEndian(reply[20..]);
        if (mapped > (uint)capacity) CorruptStructure.Throw("struct fiemap", 20, $"fm_mapped_extents {mapped} exceeds the {capacity} asked for");
        long need = HeaderBytes + (long)mapped * SizeBytes;
        if (need > reply.Length) CorruptStructure.Truncated("struct fiemap", 0, need, reply.Length);
        var list = new FiemapExtent[mapped];
        for (int i = 0; i < mapped; i++)
        {
            int at = HeaderBytes + i * SizeBytes;
            var e = reply.Slice(at, SizeBytes);
            ulong logical = BinaryPrimitives.ReadUInt64LittleEndian(e);
            ulong physical = BinaryPrimitives.ReadUInt64LittleEndian(e[8..]);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(e[16..]);
            uint flags = BinaryPrimitives.ReadUInt32LittleEndian(e[40..]);
            if (logical > long.MaxValue || physical > long.MaxValue || length > long.MaxValue || logical + length > long.MaxValue)
                CorruptStructure.Throw("struct fiemap_extent", at, $"extent {i} out of range (logical {logical}, physical {physical}, length {length})");
            list[i] = new FiemapExtent((long)logical, (long)physical, (long)length, (FiemapExtentFlags)flags);
        }
        return list;
    }
}
