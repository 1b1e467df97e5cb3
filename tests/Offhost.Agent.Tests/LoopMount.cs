using System.Diagnostics;
using Offhost.Testing;

namespace Offhost.Agent.Tests;

/// <summary>A file-system image mounted through a loop device in a scratch directory; Dispose thaws, unmounts and detaches
/// even when the test failed.</summary>
sealed class LoopMount : IDisposable
{
    public LoopMount(string image, string mountPoint, string options = "loop")
    {
        Image = image;
        MountPoint = mountPoint;
        Directory.CreateDirectory(mountPoint);
        Tool.Run("mount", "-o", options, image, mountPoint);
        Device = Tool.Run("findmnt", "-n", "-o", "SOURCE", "--mountpoint", mountPoint).Trim();
    }

    public string Image { get; }
    public string MountPoint { get; }
    public string Device { get; }

    public static LoopMount Ext4(Scratch s, string name, int sizeMiB = 32)
    {
        string img = s[name + ".img"];
        Tool.Run("truncate", "-s", $"{sizeMiB}M", img);
        Tool.Run("mkfs.ext4", "-q", "-F", "-b", "4096", img);
        return new LoopMount(img, s[name]);
    }

    /// <summary>An ext4 image created in <paramref name="directory"/> and mounted at <paramref name="mountPoint"/>.</summary>
    public static LoopMount Ext4Inside(string directory, string name, string mountPoint, int sizeMiB = 64)
    {
        string img = Path.Combine(directory, name + ".img");
        Tool.Run("truncate", "-s", $"{sizeMiB}M", img);
        Tool.Run("mkfs.ext4", "-q", "-F", "-b", "4096", img);
        return new LoopMount(img, mountPoint);
    }

    /// <summary>Starts a shell command as a separate process (a writer), with output captured.</summary>
    public static Process Start(string script)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        return Process.Start(psi)!;
    }

    /// <summary>True when a small direct write to the file system completes within <paramref name="timeout"/>.</summary>
    public bool CanWrite(TimeSpan timeout)
    {
        using var p = Start($"dd if=/dev/zero of='{MountPoint}/.probe-{Guid.NewGuid():N}' bs=4096 count=1 oflag=direct status=none");
        bool done = p.WaitForExit(timeout);
        if (!done) return false; // Left blocked in the kernel; it finishes once the file system is thawed.
        return p.ExitCode == 0;
    }

    public void Dispose()
    {
        Tool.TryRun("fsfreeze", ["-u", MountPoint]);
        for (int i = 0; i < 20; i++)
        {
            if (Tool.TryRun("umount", [MountPoint]).ExitCode == 0) return;
            Thread.Sleep(250);
        }
        Tool.TryRun("umount", ["-l", MountPoint]);
    }
}
