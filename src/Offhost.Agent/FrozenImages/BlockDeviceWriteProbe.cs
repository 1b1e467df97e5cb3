using Offhost.Io.FileSystems;

namespace Offhost.Agent.FrozenImages;

/// <summary>
/// Writes to a block device (whole disk, partition, loop) from its sysfs stat: writes completed and sectors written.
/// When file systems on it are mounted, each sample first runs syncfs on them: data written to the page cache reaches
/// the device only at write-back (up to 30 s later), and without the sync a busy writer would look idle.
/// </summary>
public sealed class BlockDeviceWriteProbe : IWriteActivityProbe
{
    readonly string _statPath;
    readonly IReadOnlyList<string> _syncMountPoints;

    public BlockDeviceWriteProbe(string devicePath, uint major, uint minor, IReadOnlyList<string>? syncMountPoints = null)
    {
        _syncMountPoints = syncMountPoints ?? [];
        _statPath = BlockDeviceStat.SysfsPath(major, minor);
        if (!File.Exists(_statPath)) throw new FileNotFoundException($"{devicePath}: no sysfs stat at {_statPath}", _statPath);
        Description = $"{devicePath} (writes in {_statPath})";
    }

    public string Description { get; }

    public WriteSample Sample()
    {
        foreach (string mp in _syncMountPoints) FileSystemFreeze.Sync(mp);
        var s = BlockDeviceStat.Read(_statPath);
        return new WriteSample(s.WritesCompleted, s.SectorsWritten);
    }
}
