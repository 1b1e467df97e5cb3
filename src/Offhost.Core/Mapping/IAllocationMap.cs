namespace Offhost.Core.Mapping;

/// <summary>
/// A mapper that can say which parts of its volume the file system has allocated (NTFS <c>$Bitmap</c>, ext block
/// bitmaps). A volume backup copies only those, as ntfsclone and partclone do; unallocated space restores as zeros.
/// </summary>
public interface IAllocationMap
{
    /// <summary>Allocated byte ranges, counted from the start of the device, ascending and not overlapping.
    /// Throws <see cref="Errors.CorruptStructureException"/> when the bitmap cannot be read.</summary>
    IEnumerable<(long StartBytes, long LengthBytes)> AllocatedRanges(CancellationToken cancellationToken);
}
