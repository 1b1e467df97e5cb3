using Offhost.Testing;

namespace Offhost.TwoHosts.Tests;

/// <summary>A loop device over an image file (the shared LUN of the tests); detached on dispose.</summary>
public sealed class Loop : IDisposable
{
    public Loop(string image)
    {
        Image = image;
        Device = Tool.Run("losetup", "--find", "--show", image).Trim();
    }

    public string Image { get; }
    public string Device { get; }

    public static Loop Ext4(Scratch s, string name, int sizeMiB = 32)
    {
        string img = s[name + ".img"];
        Tool.Run("truncate", "-s", $"{sizeMiB}M", img);
        Tool.Run("mkfs.ext4", "-q", "-F", "-b", "4096", "-E", "lazy_itable_init=0,lazy_journal_init=0", img);
        return new Loop(img);
    }

    public static Loop Ntfs(Scratch s, string name, int sizeMiB = 32)
    {
        string img = s[name + ".img"];
        using (var f = File.Create(img)) f.SetLength((long)sizeMiB << 20);
        Tool.Run("mkntfs", "-F", "-q", "-f", "-L", name, "-c", "4096", img);
        return new Loop(img);
    }

    /// <summary>Mounts the device (ext4 by mount, NTFS by ntfs-3g), runs <paramref name="script"/> in it with bash, unmounts.</summary>
    public void Change(string script, bool ntfs = false)
    {
        string mnt = Image + ".mnt";
        Directory.CreateDirectory(mnt);
        Mount(ntfs ? ["ntfs-3g", Device, mnt] : ["mount", Device, mnt]);
        try { Tool.Bash($"cd '{mnt}'\n{script}"); }
        finally { Unmount(mnt); }
    }

    /// <summary>Mounts read-only and returns every regular file's bytes by path (relative, with a leading slash).</summary>
    public Dictionary<string, byte[]> Files(bool ntfs = false)
    {
        string mnt = Image + ".ro";
        Directory.CreateDirectory(mnt);
        Mount(ntfs ? ["ntfs-3g", "-o", "ro", Device, mnt] : ["mount", "-o", "ro,noload", Device, mnt]);
        try
        {
            return Directory.EnumerateFiles(mnt, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                .Where(f => !Path.GetFileName(f).StartsWith('$') && !f.Contains("/lost+found/", StringComparison.Ordinal))
                .ToDictionary(f => "/" + Path.GetRelativePath(mnt, f), File.ReadAllBytes);
        }
        finally { Unmount(mnt); }
    }

    /// <summary>Mounts, retrying while the kernel still finishes the previous unmount of the device (EBUSY).</summary>
    static void Mount(string[] command)
    {
        for (int attempt = 0; ; attempt++)
        {
            var r = Tool.TryRun(command[0], command[1..]);
            if (r.ExitCode == 0) return;
            if (attempt == 20) throw new InvalidOperationException($"{string.Join(' ', command)} exited {r.ExitCode}: {r.Stderr}");
            Thread.Sleep(250);
        }
    }

    static void Unmount(string mnt)
    {
        for (int i = 0; i < 50; i++)
        {
            if (Tool.TryRun("umount", [mnt]).ExitCode == 0) { Thread.Sleep(100); return; }
            Thread.Sleep(200);
        }
        Tool.TryRun("umount", ["-l", mnt]);
    }

    public void Dispose()
    {
        Tool.TryRun("umount", [Image + ".mnt"]);
        Tool.TryRun("umount", [Image + ".ro"]);
        Tool.TryRun("losetup", ["-d", Device]);
    }
}
