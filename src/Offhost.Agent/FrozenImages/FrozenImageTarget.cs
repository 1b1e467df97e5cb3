using Offhost.Core.Errors;
using Offhost.Io.FileSystems;

namespace Offhost.Agent.FrozenImages;

/// <summary>What a backup source path turns out to be: an image file, a block device and the places either is mounted.</summary>
internal sealed record FrozenImageTarget(string SourcePath, string? ImagePath, string? DevicePath, uint Major, uint Minor, IReadOnlyList<MountInfo> Mounts)
{
    /// <summary>
    /// The mount point to freeze when the device is mounted read-write: one, since every mount of a device (bind mounts,
    /// the same device mounted twice) shares one superblock and FIFREEZE freezes the superblock. Empty when the device is
    /// not mounted read-write.
    /// </summary>
    public IReadOnlyList<string> WritableMountPoints => Mounts.Where(m => !m.IsReadOnly).Select(m => m.MountPoint).Take(1).ToList();

    public static FrozenImageTarget Resolve(string path)
    {
        string full = Path.GetFullPath(path);
        FileStatus st;
        try { st = FileStatus.Of(full); }
        catch (FileSystemCallException e) { throw new UserFacingException($"backup source {path}: {e.Message}", e); }
        var mounts = MountInfo.Current();

        if (st.IsRegularFile)
        {
            var loops = LoopDevice.BackedBy(full);
            var loopMounts = loops.SelectMany(l => MountInfo.MountsOf(l.Major, l.Minor, mounts)).ToList();
            var loop = loops.Count > 0 ? loops[0] : null;
            return new FrozenImageTarget(full, full, loop?.DevicePath, loop?.Major ?? 0, loop?.Minor ?? 0, loopMounts);
        }
        if (st.IsBlockDevice)
        {
            var loop = LoopDevice.Find(st.RdevMajor, st.RdevMinor);
            return new FrozenImageTarget(full, loop?.BackingFile, full, st.RdevMajor, st.RdevMinor, MountInfo.MountsOf(st.RdevMajor, st.RdevMinor, mounts));
        }
        if (st.IsDirectory)
        {
            var m = MountInfo.ContainingMount(full, mounts) ?? throw new UserFacingException($"backup source {path}: no mount holds it");
            if (m.Major == 0)
                throw new UserFacingException($"backup source {path}: {m.MountPoint} is a {m.FileSystemType} mount without a block device; nothing to image");
            var loop = LoopDevice.Find(m.Major, m.Minor);
            string device = loop?.DevicePath ?? (m.Source.StartsWith('/') ? m.Source : $"/dev/block/{m.Major}:{m.Minor}");
            return new FrozenImageTarget(full, loop?.BackingFile, device, m.Major, m.Minor, MountInfo.MountsOf(m.Major, m.Minor, mounts));
        }
        throw new UserFacingException($"backup source {path}: not an image file, block device or mounted directory");
    }

    public IReadOnlyList<IWriteActivityProbe> Probes()
    {
        var probes = new List<IWriteActivityProbe>();
        if (DevicePath is not null && File.Exists(BlockDeviceStat.SysfsPath(Major, Minor)))
            probes.Add(new BlockDeviceWriteProbe(DevicePath, Major, Minor, WritableMountPoints));
        if (ImagePath is not null) probes.Add(new ImageFileWriteProbe(ImagePath));
        return probes;
    }
}
