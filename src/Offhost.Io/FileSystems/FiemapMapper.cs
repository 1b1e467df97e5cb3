using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Offhost.Core.Mapping;
using Offhost.Io.Native;

namespace Offhost.Io.FileSystems;

/// <summary>
/// Maps a file of a mounted file system to device extents with FS_IOC_FIEMAP. Run it while the file system is frozen
/// (or otherwise idle) for a map that stays true while the data is copied. Physical offsets are bytes from the start
/// of the block device the file system is on. Thread-safe (no shared state).
/// </summary>
public static class FiemapMapper
{
    const int ExtentsPerCall = 256;
    const uint FIEMAP_FLAG_SYNC = 0x1;

    /// <summary>All extents of <paramref name="path"/>, in logical order, with the file written back first (FIEMAP_FLAG_SYNC).
    /// Holes are absent from the list.</summary>
    public static unsafe IReadOnlyList<FiemapExtent> MapFile(string path)
    {
        using var fd = PathDescriptor.Open(path, "FIEMAP");
        var all = new List<FiemapExtent>();
        int bufferBytes = FiemapExtent.HeaderBytes + ExtentsPerCall * FiemapExtent.SizeBytes;
        byte[] buffer = new byte[bufferBytes];
        ulong start = 0;
        while (true)
        {
            Array.Clear(buffer);
            BinaryPrimitives.WriteUInt64LittleEndian(buffer, start);
            BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(8), ulong.MaxValue - start);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(16), FIEMAP_FLAG_SYNC);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(24), ExtentsPerCall);
            fixed (byte* p = buffer)
            {
                if (LibcFs.IoctlPtr(fd.Fd, LibcFs.FS_IOC_FIEMAP, p) != 0)
                    throw new FileSystemCallException("FS_IOC_FIEMAP", path, Marshal.GetLastSystemError());
            }
            var batch = FiemapExtent.ParseReply(buffer, ExtentsPerCall);
            if (batch.Length == 0) break;
            foreach (var e in batch)
            {
                // Each call starts where the previous ended; the kernel may repeat an extent that straddles it.
                if (all.Count > 0 && e.LogicalBytes < all[^1].EndLogicalBytes) continue;
                all.Add(e);
            }
            if ((batch[^1].Flags & FiemapExtentFlags.Last) != 0) break;
            start = (ulong)batch[^1].EndLogicalBytes;
        }
        return all;
    }

    /// <summary>The storage-map extents of <paramref name="path"/> (see <see cref="ToMapExtents"/>), in device blocks of
    /// <paramref name="blockSizeBytes"/>.</summary>
    public static IReadOnlyList<MapExtent> MapExtentsOf(string path, int blockSizeBytes)
    {
        var extents = MapFile(path);
        long size = FileStatus.Of(path).SizeBytes;
        return ToMapExtents(extents, size, blockSizeBytes, path);
    }

    /// <summary>
    /// Turns FIEMAP extents into storage-map extents covering [0, <paramref name="sizeBytes"/>): plain data becomes
    /// <see cref="ExtentKind.Data"/> in blocks of <paramref name="blockSizeBytes"/>, holes and unwritten extents become
    /// <see cref="ExtentKind.Zero"/>. Throws <see cref="NotSupportedException"/> for extents whose device bytes are not
    /// the file's bytes (inline, encoded, unknown/delayed location, not block-aligned); such files are copied through
    /// the file system instead.
    /// </summary>
    public static IReadOnlyList<MapExtent> ToMapExtents(IReadOnlyList<FiemapExtent> extents, long sizeBytes, int blockSizeBytes, string path = "")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSizeBytes, 512);
        var list = new List<MapExtent>();
        long pos = 0;
        foreach (var e in extents)
        {
            if (pos >= sizeBytes) break;
            if (e.LogicalBytes > pos) { long gap = Math.Min(e.LogicalBytes, sizeBytes) - pos; list.Add(MapExtent.Zero(pos, gap)); pos += gap; }
            if (pos >= sizeBytes) break;
            long from = Math.Max(pos, e.LogicalBytes);
            long end = Math.Min(e.EndLogicalBytes, sizeBytes);
            if (end <= from) continue;
            if ((e.Flags & FiemapExtentFlags.Unwritten) != 0)
                list.Add(MapExtent.Zero(from, end - from));
            else if (!e.IsPlainData)
                throw new NotSupportedException($"{path}: extent at byte {e.LogicalBytes} has flags {e.Flags}; its device bytes are not the file's bytes");
            else if (e.PhysicalBytes % blockSizeBytes != 0 || e.LogicalBytes % blockSizeBytes != 0)
                throw new NotSupportedException($"{path}: extent at byte {e.LogicalBytes} (device byte {e.PhysicalBytes}) is not aligned to {blockSizeBytes}-byte blocks; pass the file system's block size");
            else
            {
                long physical = e.PhysicalBytes + (from - e.LogicalBytes);
                list.Add(MapExtent.Data(from, end - from, physical / blockSizeBytes, blockSizeBytes));
            }
            pos = end;
        }
        if (pos < sizeBytes) list.Add(MapExtent.Zero(pos, sizeBytes - pos));
        return list;
    }
}
