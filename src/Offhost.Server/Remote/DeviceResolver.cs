using Offhost.Core.Errors;
using Offhost.Io.Block;
using Offhost.Io.FileSystems;
using Offhost.Mapping;
using Offhost.Rpc.V1;

namespace Offhost.Server.Remote;

/// <summary>
/// Finds, on the backup host, the device an agent's map addresses. The agent names it by identity, not by path: the
/// file system's UUID (ext) or volume serial (NTFS), its offset and size, the device's size and, where the device has
/// one, its WWN. A candidate is accepted only when all of these match what this host reads from the device itself; a
/// device under another name is fine, a different one is refused. Reads only a few metadata blocks. Stateless.
/// </summary>
public static class DeviceResolver
{
    /// <summary>The local path of the device that holds every volume of <paramref name="volumes"/>. With
    /// <paramref name="candidates"/>, only those are tried (and each one that does not match says why); otherwise every
    /// block device of this host is tried, and more than one match is refused as ambiguous.</summary>
    public static string Resolve(IReadOnlyList<RemoteVolume> volumes, IReadOnlyList<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(volumes);
        ArgumentNullException.ThrowIfNull(candidates);
        if (volumes.Count == 0) throw new UserFacingException("the agent's map has no volume");
        bool explicitList = candidates.Count > 0;
        var tried = explicitList ? candidates : LocalBlockDevices();
        var reasons = new List<string>();
        var matches = new List<string>();
        foreach (var path in tried)
        {
            string? why = Mismatch(path, volumes);
            if (why is null) matches.Add(path);
            else reasons.Add($"{path}: {why}");
        }
        var want = Describe(volumes[0].Identity);
        if (matches.Count == 1) return matches[0];
        if (matches.Count == 0)
            throw new UserFacingException(explicitList
                ? $"refusing to read: no given device is the agent's {want}:\n  " + string.Join("\n  ", reasons)
                : $"no block device of this host is the agent's {want} ({tried.Count} examined); name it with --lun", 1);
        throw new UserFacingException($"{matches.Count} devices look like the agent's {want} ({string.Join(", ", matches)}); name the right one with --lun", 1);
    }

    static string Describe(DeviceIdentity id) =>
        $"{id.FileSystem} {id.FileSystemId} ({id.DeviceSizeBytes} bytes{(id.Wwn.Length > 0 ? ", WWN " + id.Wwn : "")}, {id.AgentPath} on the agent host)";

    /// <summary>Why <paramref name="path"/> is not the device of <paramref name="volumes"/>, or null when it is.</summary>
    public static string? Mismatch(string path, IReadOnlyList<RemoteVolume> volumes)
    {
        ArgumentNullException.ThrowIfNull(volumes);
        FileBlockSource source;
        try { source = new FileBlockSource(path); }
        catch (Exception e) when (e is UserFacingException or IOException or UnauthorizedAccessException) { return "cannot open: " + e.Message; }
        using (source)
        {
            var first = volumes[0].Identity;
            if (source.LengthBytes != first.DeviceSizeBytes) return $"size {source.LengthBytes} bytes, the agent's device has {first.DeviceSizeBytes}";
            if (first.Wwn.Length > 0)
            {
                string local = LocalWwn(path);
                if (local.Length > 0 && !string.Equals(local, first.Wwn, StringComparison.OrdinalIgnoreCase)) return $"WWN {local}, the agent's device has {first.Wwn}";
            }
            IReadOnlyList<Core.Mapping.IVolumeMapper> found;
            try { found = VolumeOpener.Open(source); }
            catch (Exception e) when (e is UserFacingException or CorruptStructureException or IOException) { return "no matching file system: " + e.Message; }
            foreach (var v in volumes)
            {
                var id = v.Identity;
                var same = found.FirstOrDefault(f => f.Volume.PartitionOffsetBytes == id.PartitionOffsetBytes);
                if (same is null) return $"no file system at byte offset {id.PartitionOffsetBytes}";
                if (same.Volume.FileSystem != id.FileSystem) return $"{same.Volume.FileSystem} at byte offset {id.PartitionOffsetBytes}, the agent has {id.FileSystem}";
                if (!string.Equals(same.Volume.Serial, id.FileSystemId, StringComparison.OrdinalIgnoreCase))
                    return $"file-system id {same.Volume.Serial}, the agent's is {id.FileSystemId}";
                if (same.Volume.SizeBytes != id.FileSystemSizeBytes) return $"file system of {same.Volume.SizeBytes} bytes, the agent's has {id.FileSystemSizeBytes}";
            }
            return null;
        }
    }

    static string LocalWwn(string path)
    {
        try
        {
            var st = FileStatus.Of(path);
            if (!st.IsBlockDevice) return "";
            foreach (var f in new[] { "wwid", "device/wwid" })
            {
                string p = $"/sys/dev/block/{st.RdevMajor}:{st.RdevMinor}/{f}";
                if (File.Exists(p)) return File.ReadAllText(p).Trim();
            }
        }
        catch (Exception e) when (e is FileSystemCallException or IOException or UnauthorizedAccessException) { }
        return "";
    }

    /// <summary>Every block device node this host has (whole disks and partitions), from /sys/class/block.</summary>
    static List<string> LocalBlockDevices()
    {
        var list = new List<string>();
        if (!Directory.Exists("/sys/class/block")) return list;
        foreach (var dir in Directory.EnumerateFileSystemEntries("/sys/class/block"))
        {
            string name = Path.GetFileName(dir);
            string dev = "/dev/" + name;
            try
            {
                if (!File.Exists(dev) && !Path.Exists(dev)) continue;
                if (long.TryParse(File.ReadAllText(Path.Combine(dir, "size")).Trim(), System.Globalization.CultureInfo.InvariantCulture, out long sectors) && sectors > 0)
                    list.Add(dev);
            }
            catch (IOException) { }
        }
        list.Sort(StringComparer.Ordinal);
        return list;
    }
}
