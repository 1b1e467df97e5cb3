namespace Offhost.Server.Restore;

/// <summary>
/// Maps archive member names to paths under the restore directory and refuses every name that could lead outside
/// it: absolute names, <c>..</c> components, NUL, and any parent that is not a real directory inside the target
/// (a symlink restored earlier is never followed; each parent is checked with lstat semantics before use). Parents that
/// do not exist yet are created one level at a time. Not thread-safe: one instance per restore.
/// </summary>
public sealed class FileRestorePaths
{
    readonly string root;

    public FileRestorePaths(string targetDirectory)
    {
        Directory.CreateDirectory(targetDirectory);
        // The target itself may be reached through symlinks the user chose; everything below it may not.
        var full = Path.GetFullPath(targetDirectory);
        root = new DirectoryInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
    }

    public string Root => root;

    /// <summary>The full path for <paramref name="memberPath"/>, creating missing parents; null with <paramref name="refusal"/> set when the name is refused.</summary>
    public string? Resolve(string memberPath, out string? refusal)
    {
        refusal = Check(memberPath, out var parts);
        if (refusal is not null) return null;
        string current = root;
        for (int i = 0; i < parts.Count - 1; i++)
        {
            current = Path.Join(current, parts[i]);
            if (IsSymlink(current)) { refusal = $"parent '{string.Join('/', parts.Take(i + 1))}' is a symbolic link; nothing is written through it"; return null; }
            if (Directory.Exists(current)) continue;
            if (File.Exists(current)) { refusal = $"parent '{string.Join('/', parts.Take(i + 1))}' is not a directory"; return null; }
            Directory.CreateDirectory(current);
        }
        return Path.Join(current, parts[^1]);
    }

    /// <summary>Why <paramref name="memberPath"/> may not be restored, or null; <paramref name="parts"/> are its components.</summary>
    public static string? Check(string memberPath, out List<string> parts)
    {
        parts = [];
        if (memberPath.Contains('\0')) return "the name contains NUL";
        if (memberPath.StartsWith('/')) return "absolute name; only names relative to the restore directory are restored";
        foreach (var part in memberPath.Split('/'))
        {
            if (part.Length == 0 || part == ".") continue;
            if (part == "..") return "the name contains '..'; it would reach outside the restore directory";
            parts.Add(part);
        }
        return parts.Count == 0 ? "empty name" : null;
    }

    /// <summary>True when <paramref name="path"/> itself is a symbolic link (not following it).</summary>
    public static bool IsSymlink(string path) => new FileInfo(path).LinkTarget is not null;

    /// <summary>Removes a non-directory (file or symlink, never followed) at <paramref name="path"/> so a new one can be created.
    /// Returns false when a real directory is in the way.</summary>
    public static bool ClearForNonDirectory(string path)
    {
        if (IsSymlink(path) || File.Exists(path)) { File.Delete(path); return true; }
        return !Directory.Exists(path);
    }
}
