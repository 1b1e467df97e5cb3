using System.Globalization;
using System.Text.RegularExpressions;

namespace Offhost.Testing;

/// <summary>
/// Builds ext2/ext3/ext4 images with the real tools (mke2fs, mount), for parser tests and end-to-end tests.
/// Images are sparse files; callers own the paths (put them in a <see cref="Scratch"/>).
/// </summary>
public static class Ext4VolumeBuilder
{
    /// <summary>
    /// Creates a <paramref name="sizeBytes"/> image at <paramref name="imagePath"/> with <c>mkfs.&lt;fsType&gt;</c>,
    /// populated from <paramref name="sourceDir"/> with <c>-d</c> when given. <paramref name="options"/> go to mke2fs as
    /// they are (e.g. <c>-b 1024</c>, <c>-O inline_data</c>, <c>-O ^metadata_csum</c>, <c>-N 70000</c>).
    /// </summary>
    public static string Create(string imagePath, long sizeBytes, string fsType = "ext4", string? sourceDir = null, params string[] options)
    {
        using (var f = new FileStream(imagePath, FileMode.Create, FileAccess.Write)) f.SetLength(sizeBytes);
        var args = new List<string> { "-q", "-F", "-E", "lazy_itable_init=0,nodiscard" };
        args.AddRange(options);
        if (sourceDir is not null) { args.Add("-d"); args.Add(sourceDir); }
        args.Add(imagePath);
        Tool.RunChecked($"mkfs.{fsType}", args, stdin: null);
        return imagePath;
    }

    /// <summary>Loop-mounts <paramref name="imagePath"/> at a fresh directory; read-only mounts skip journal replay (<c>noload</c>).</summary>
    public static Ext4LoopMount Mount(string imagePath, string mountPoint, bool readOnly) => new(imagePath, mountPoint, readOnly);

    /// <summary>Runs e2fsck -fn and returns whether it found the volume clean (exit code 0).</summary>
    public static bool FsckClean(string imagePath) => Tool.TryRun("e2fsck", ["-fn", imagePath]).ExitCode == 0;

    /// <summary>Runs one debugfs request against the image (read-only unless <paramref name="write"/>) and returns stdout.</summary>
    public static string Debugfs(string imagePath, string request, bool write = false)
    {
        var args = new List<string>();
        if (write) args.Add("-w");
        args.AddRange(["-R", request, imagePath]);
        return Tool.RunChecked("debugfs", args, stdin: null);
    }

    /// <summary>Writes <paramref name="bytes"/> into the image at an absolute byte offset (to damage structures on purpose).</summary>
    public static void Patch(string imagePath, long offsetBytes, ReadOnlySpan<byte> bytes)
    {
        using var f = new FileStream(imagePath, FileMode.Open, FileAccess.Write);
        f.Position = offsetBytes;
        f.Write(bytes);
    }

    /// <summary>Absolute byte offset of the inode that <paramref name="path"/> names, from <c>debugfs imap</c>.</summary>
    public static long InodeOffset(string imagePath, string path)
    {
        string output = Debugfs(imagePath, $"imap \"{path}\"");
        // "Inode 12 is part of block group 0\n\tlocated at block 36, offset 0x0b00"
        var m = System.Text.RegularExpressions.Regex.Match(output, @"located at block (\d+), offset 0x([0-9a-fA-F]+)");
        if (!m.Success) throw new InvalidOperationException($"debugfs imap: unexpected output: {output}");
        long block = long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        long off = long.Parse(m.Groups[2].Value, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        return block * BlockSize(imagePath) + off;
    }

    /// <summary>The file-system block size, from <c>dumpe2fs -h</c>.</summary>
    /// <summary>Allocated block ranges [Start, End) as the complement of dumpe2fs' free lists (which name clusters by their first block).</summary>
    public static List<(long Start, long End)> AllocatedBlocks(string image, out int blockSize)
    {
        string text = Tool.RunChecked("dumpe2fs", [image], stdin: null);
        long Field(string name) => long.Parse(Regex.Match(text, name + @":\s+(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        blockSize = (int)Field("Block size");
        long blocks = Field("Block count");
        var cluster = Regex.Match(text, @"Cluster size:\s+(\d+)");
        long ratio = cluster.Success ? long.Parse(cluster.Groups[1].Value, CultureInfo.InvariantCulture) / blockSize : 1;
        var free = new List<(long, long)>();
        foreach (Match line in Regex.Matches(text, @"^  Free blocks: (.*)$", RegexOptions.Multiline))
            foreach (string part in line.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var ends = part.Split('-');
                long a = long.Parse(ends[0], CultureInfo.InvariantCulture);
                long b = long.Parse(ends[^1], CultureInfo.InvariantCulture);
                free.Add((a, Math.Min(blocks, b + ratio)));
            }
        free.Sort();
        var allocated = new List<(long, long)>();
        long at = 0;
        foreach (var (a, b) in free)
        {
            if (a > at) allocated.Add((at, a));
            at = Math.Max(at, b);
        }
        if (at < blocks) allocated.Add((at, blocks));
        return allocated;
    }

    public static int BlockSize(string imagePath)
    {
        string output = Tool.RunChecked("dumpe2fs", ["-h", imagePath], stdin: null);
        var m = System.Text.RegularExpressions.Regex.Match(output, @"Block size:\s+(\d+)");
        return int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>A loop mount of an image; unmounts and removes the mount point on dispose, even after a failed test.</summary>
public sealed class Ext4LoopMount : IDisposable
{
    public Ext4LoopMount(string imagePath, string mountPoint, bool readOnly)
    {
        Directory.CreateDirectory(mountPoint);
        Path = mountPoint;
        // noload (no journal replay) exists only for journalled volumes; ext2 refuses it.
        if (readOnly && Tool.TryRun("mount", ["-o", "loop,ro,noload", imagePath, mountPoint]).ExitCode == 0) return;
        Tool.RunChecked("mount", ["-o", readOnly ? "loop,ro" : "loop", imagePath, mountPoint], stdin: null);
    }

    public string Path { get; }

    public void Dispose()
    {
        for (int i = 0; i < 20; i++)
        {
            if (Tool.TryRun("umount", [Path]).ExitCode == 0) break;
            Thread.Sleep(250);
        }
        try { Directory.Delete(Path); } catch (IOException) { }
    }
}
