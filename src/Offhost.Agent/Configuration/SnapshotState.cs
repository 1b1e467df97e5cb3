using System.Globalization;
using System.Text;
using Offhost.Agent.FrozenImages;
using Offhost.Io.FileSystems;

namespace Offhost.Agent.Configuration;

/// <summary>
/// The part of the configuration ID that belongs to the snapshot itself rather than to its files: which image it is
/// (a new image after a release has a new id), whether the agent still holds it unchanged (frozen or cloned), and where
/// its storage lies (the device's identity and size, or for an image file or reflink clone its size, times and FIEMAP
/// extents, so a clone that moved changes the ID).
/// </summary>
public static class SnapshotState
{
    public static string Describe(FrozenImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"image={image.Id}\nprovider={image.Provider}\npath={image.SnapshotPath}\nheld={IsHeld(image)}\n");
        var st = FileStatus.Of(image.SnapshotPath);
        sb.Append(CultureInfo.InvariantCulture, $"mode={st.Mode & 0xF000:x}\nsize={st.SizeBytes}\n");
        if (st.IsBlockDevice)
        {
            sb.Append(CultureInfo.InvariantCulture, $"rdev={st.RdevMajor}:{st.RdevMinor}\n");
        }
        else
        {
            sb.Append(CultureInfo.InvariantCulture, $"mtime={st.ModifiedNanoseconds}\nctime={st.ChangedNanoseconds}\ndev={st.DeviceMajor}:{st.DeviceMinor}\n");
            foreach (var x in FiemapMapper.MapFile(image.SnapshotPath))
                sb.Append(CultureInfo.InvariantCulture, $"extent={x.LogicalBytes},{x.PhysicalBytes},{x.LengthBytes},{(uint)x.Flags:x}\n");
        }
        return sb.ToString();
    }

    /// <summary>True while nothing can change the image: a held freeze, a reflink clone. False for provider none (static
    /// only as long as nobody mounts or writes it), after the maximum freeze expired, and after release.</summary>
    public static bool IsHeld(FrozenImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.IsReleased || image.Expired.IsCancellationRequested) return false;
        return image.Provider switch
        {
            SnapshotProvider.Freeze => image.FrozenMountPoints.Count > 0,
            SnapshotProvider.Reflink => true,
            _ => false,
        };
    }
}
