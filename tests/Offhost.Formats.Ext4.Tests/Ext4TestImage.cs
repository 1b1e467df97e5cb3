using Offhost.Core.Devices;
using Offhost.Core.Mapping;
using Offhost.Io.Block;

namespace Offhost.Formats.Ext4.Tests;

/// <summary>Opens an image file as a device and maps the volume on it (optionally at a partition offset).</summary>
internal sealed class Ext4TestImage : IDisposable
{
    public Ext4TestImage(string path, long partitionStartBytes = 0, long? partitionLengthBytes = null)
    {
        Device = new FileBlockSource(path);
        Volume = new SliceBlockSource(Device, partitionStartBytes, partitionLengthBytes ?? Device.LengthBytes - partitionStartBytes);
    }

    public FileBlockSource Device { get; }
    public SliceBlockSource Volume { get; }

    public IVolumeMapper Open(int? partition = null) => Ext4Volume.OpenMapper(Volume, partition);

    public List<MapEntry> Map() => Open().Entries(TestContext.Current.CancellationToken).ToList();

    public void Dispose() => Device.Dispose();
}
