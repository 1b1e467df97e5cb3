using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Formats.Ext4;
using Offhost.Formats.Ntfs;
using Offhost.Formats.Partitions;

namespace Offhost.Mapping;

/// <summary>
/// Finds the file systems on a source (a bare volume, or the partitions of an MBR or GPT disk) and opens a
/// mapper for each. The file system is recognised from its own structures, never from a partition type.
/// </summary>
public static class VolumeOpener
{
    const int ProbeBytes = 4096;

    /// <summary>Opens every NTFS and ext2/3/4 file system on <paramref name="device"/>, or only partition
    /// <paramref name="partition"/> (1-based). Throws <see cref="UserFacingException"/> when there is nothing to map.</summary>
    public static IReadOnlyList<IVolumeMapper> Open(IBlockSource device, int? partition = null)
    {
        var whole = new SliceBlockSource(device, 0, device.LengthBytes);
        var kind = Probe(whole);
        if (kind != FileSystemKind.Unknown)
        {
            if (partition is int n)
                throw new UserFacingException($"{device.DeviceId} holds a bare {Name(kind)} volume, not a partition table: there is no partition {n}", 2);
            return [OpenKind(kind, whole, null)];
        }

        var table = PartitionTableReader.Read(device);
        if (table.Scheme == PartitionScheme.None)
            throw new UserFacingException($"{device.DeviceId}: no NTFS or ext2/ext3/ext4 file system and no MBR or GPT partition table found", 2);

        var chosen = partition is int p ? table.Partitions.Where(x => x.Number == p).ToList() : table.Partitions.ToList();
        if (partition is int wanted && chosen.Count == 0)
            throw new UserFacingException($"{device.DeviceId}: the {table.Scheme} partition table has no partition {wanted} (it has {string.Join(", ", table.Partitions.Select(x => x.Number))})", 2);

        var mappers = new List<IVolumeMapper>();
        foreach (var entry in chosen)
        {
            var slice = new SliceBlockSource(device, entry.StartBytes, entry.LengthBytes);
            var found = Probe(slice);
            if (found == FileSystemKind.Unknown)
            {
                if (partition is not null)
                    throw new UserFacingException($"{device.DeviceId}: partition {entry.Number} (type {entry.Type}) holds no NTFS or ext2/ext3/ext4 file system", 2);
                continue;
            }
            mappers.Add(OpenKind(found, slice, entry.Number));
        }
        if (mappers.Count == 0)
            throw new UserFacingException($"{device.DeviceId}: none of the {table.Partitions.Count} partitions holds an NTFS or ext2/ext3/ext4 file system", 2);
        return mappers;
    }

    enum FileSystemKind { Unknown, Ntfs, Ext }

    static FileSystemKind Probe(SliceBlockSource volume)
    {
        if (volume.LengthBytes < 2048) return FileSystemKind.Unknown;
        var head = new byte[(int)Math.Min(ProbeBytes, volume.LengthBytes)];
        volume.ReadAt(0, head);
        if (NtfsVolume.Probe(head.AsSpan(0, 512))) return FileSystemKind.Ntfs;
        if (Ext4Volume.Probe(head.AsSpan(0, 2048))) return FileSystemKind.Ext;
        return FileSystemKind.Unknown;
    }

    static IVolumeMapper OpenKind(FileSystemKind kind, SliceBlockSource volume, int? partitionNumber) => kind switch
    {
        FileSystemKind.Ntfs => NtfsVolume.OpenMapper(volume, partitionNumber),
        FileSystemKind.Ext => Ext4Volume.OpenMapper(volume, partitionNumber),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    static string Name(FileSystemKind kind) => kind == FileSystemKind.Ntfs ? "NTFS" : "ext2/ext3/ext4";
}
