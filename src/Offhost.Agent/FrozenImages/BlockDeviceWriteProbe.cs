using Offhost.Io.FileSystems;

namespace Offhost.Agent.FrozenImages;

/// <summary>Writes to a block device (whole disk, partition, loop) from its sysfs stat: writes completed and sectors written.</summary>
public sealed class BlockDeviceWriteProbe : IWriteActivityProbe
{
    readonly string _statPath;

    public BlockDeviceWriteProbe(string devicePath, uint major, uint minor)
    {
        _statPath = BlockDeviceStat.SysfsPath(major, minor);
        if (!File.Exists(_statPath)) throw new FileNotFoundException($"{devicePath}: no sysfs stat at {_statPath}", _statPath);
        Description = $"{devicePath} (writes in {_statPath})";
    }

    public string Description { get; }

    public WriteSample Sample()
    {
        var s = BlockDeviceStat.Read(_statPath);
        return new WriteSample(s.WritesCompleted, s.SectorsWritten);
    }
}
