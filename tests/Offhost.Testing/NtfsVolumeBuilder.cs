using System.Globalization;
using Xunit;

namespace Offhost.Testing;

/// <summary>
/// Builds an NTFS image with the real tools: <c>mkntfs</c> formats a sparse image file, <c>ntfs-3g</c> mounts it through
/// FUSE (with <c>streams_interface=xattr</c>, so alternate data streams are <c>user.*</c> xattrs), a shell script writes
/// files, and <see cref="Unmount"/> waits until ntfs-3g has written everything back. Dispose unmounts and removes the
/// scratch directory even when a test fails. Not thread-safe; use one builder per test or fixture.
/// </summary>
public sealed class NtfsVolumeBuilder : IDisposable
{
    readonly Scratch scratch;

    /// <summary>Formats a new image of <paramref name="sizeBytes"/> bytes.</summary>
    public NtfsVolumeBuilder(string name, long sizeBytes, string label = "offhost", int clusterBytes = 4096)
    {
        RequireTools();
        scratch = new Scratch("ntfs-" + name);
        ImagePath = scratch["volume.img"];
        MountPoint = scratch["mnt"];
        Directory.CreateDirectory(MountPoint);
        using (var f = File.Create(ImagePath)) f.SetLength(sizeBytes);
        Tool.Run("mkntfs", "-F", "-q", "-f", "-L", label, "-c", clusterBytes.ToString(CultureInfo.InvariantCulture), ImagePath);
    }

    public string ImagePath { get; }
    public string MountPoint { get; }
    public bool IsMounted { get; private set; }

    /// <summary>Skips the test unless root, mkntfs, ntfs-3g and the xattr tools are present.</summary>
    public static void RequireTools()
    {
        Requires.Root();
        Requires.Tool("mkntfs");
        Requires.Tool("ntfs-3g");
        Requires.Tool("setfattr");
        Requires.Tool("getfattr");
        if (!File.Exists("/dev/fuse")) Assert.Skip("/dev/fuse is missing: FUSE mounts are not available");
    }

    /// <summary>Mounts with ntfs-3g. <paramref name="compression"/> enables ntfs-3g's "compression" option.</summary>
    public void Mount(bool readOnly = false, bool compression = false)
    {
        if (IsMounted) throw new InvalidOperationException("already mounted");
        string options = "streams_interface=xattr" + (compression ? ",compression" : "") + (readOnly ? ",ro" : "");
        Tool.Run("ntfs-3g", "-o", options, ImagePath, MountPoint);
        IsMounted = true;
    }

    /// <summary>Runs a bash script (with -euo pipefail) in the mount point.</summary>
    public string Bash(string script)
    {
        if (!IsMounted) throw new InvalidOperationException("not mounted");
        return Tool.Bash($"cd '{MountPoint}'\n{script}");
    }

    /// <summary>
    /// A bash command that fills all but <paramref name="freeClusters"/> 4 KiB clusters with <paramref name="filler"/>, then
    /// appends one cluster at a time alternately to <paramref name="a"/> and <paramref name="b"/> (fsync after each), so
    /// the two files take turns in the remaining free space and each ends up with one run per cluster.
    /// </summary>
    public static string InterleavedAppendScript(string filler, int freeClusters, string a, string b, int clusters) =>
        $"\nhead -c $(( $(df -B1 --output=avail . | tail -1) - 4096 * {freeClusters} )) /dev/zero > '{filler}'\n" +
        "python3 -c \"import os,sys\n" +
        "fs=[open(sys.argv[1],'ab'),open(sys.argv[2],'ab')]\n" +
        "for i in range(int(sys.argv[3])):\n" +
        "  for j,f in enumerate(fs): f.write(os.urandom(4096)); f.flush(); os.fsync(f.fileno())\n" +
        $"\" '{a}' '{b}' {clusters}\n";

    /// <summary>Path of a file inside the mount.</summary>
    public string this[string relative] => Path.Combine(MountPoint, relative.TrimStart('/'));

    /// <summary>Unmounts and waits for the ntfs-3g process of this image to exit, so the image is complete.</summary>
    public void Unmount()
    {
        if (!IsMounted) return;
        Exception? last = null;
        for (int attempt = 0; attempt < 50; attempt++)
        {
            var r = Tool.TryRun("umount", [MountPoint]);
            if (r.ExitCode == 0) { last = null; break; }
            last = new InvalidOperationException($"umount {MountPoint}: {r.Stderr}");
            Thread.Sleep(200);
        }
        if (last is not null) throw last;
        IsMounted = false;
        for (int i = 0; i < 300 && DaemonRunning(); i++) Thread.Sleep(100);
    }

    bool DaemonRunning()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out _)) continue;
            try
            {
                string cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (cmdline.Contains("ntfs-3g", StringComparison.Ordinal) && cmdline.Contains(ImagePath, StringComparison.Ordinal)) return true;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return false;
    }

    public void Dispose()
    {
        try { Unmount(); }
        finally { scratch.Dispose(); }
    }
}
