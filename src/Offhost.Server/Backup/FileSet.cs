using Offhost.Catalog;
using Offhost.Core.Mapping;

namespace Offhost.Server.Backup;

/// <summary>
/// The files a backup holds when it is not a whole volume (<c>backup --files</c>): paths or patterns as in
/// <see cref="GlobPattern"/>, relative to the volume root. A pattern matching a directory selects its tree; the
/// directories above a selected file come along (for their names, times and modes). Not thread-safe: one per volume.
/// </summary>
public sealed class FileSet
{
    readonly (string Text, GlobPattern Glob)[] _patterns;
    readonly HashSet<string> _matched = new(StringComparer.Ordinal);

    /// <exception cref="ArgumentException">No pattern, or a malformed one.</exception>
    public FileSet(IEnumerable<string> patterns)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        _patterns = patterns.Select(p => (p, new GlobPattern(Normalize(p)))).ToArray();
        if (_patterns.Length == 0) throw new ArgumentException("a file set needs at least one path", nameof(patterns));
    }

    public IReadOnlyList<string> Patterns => _patterns.Select(p => p.Text).ToList();

    /// <summary>Patterns that selected nothing (complete once <see cref="Select"/> has been enumerated).</summary>
    public IReadOnlyList<string> Unmatched => _patterns.Select(p => p.Text).Where(p => !_matched.Contains(p)).ToList();

    /// <summary>"/a/b" for "a/b" and "/a/b/": map paths start with '/' and have none at the end; name-only patterns stay.</summary>
    static string Normalize(string pattern)
    {
        string p = pattern.TrimEnd('/');
        if (p.Length == 0) return "/**";
        return p.Contains('/', StringComparison.Ordinal) && !p.StartsWith('/') ? "/" + p : p;
    }

    /// <summary>True when <paramref name="path"/> or a directory above it matches a pattern.</summary>
    public bool Contains(string path)
    {
        for (string? p = path; p is { Length: > 1 }; p = Parent(p))
            foreach (var (text, glob) in _patterns)
                if (glob.IsMatch(p))
                {
                    _matched.Add(text);
                    return true;
                }
        return false;
    }

    /// <summary>The entries of a storage map this set holds, in map order, then the directories above them that the map
    /// listed before it reached their files.</summary>
    public IEnumerable<MapEntry> Select(IEnumerable<MapEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var directories = new Dictionary<string, MapEntry>(StringComparer.Ordinal);
        var needed = new HashSet<string>(StringComparer.Ordinal);
        var emitted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            if (e.Path == "/") continue;
            if (Contains(e.Path) || e.Links.Any(Contains))
            {
                emitted.Add(e.Path);
                foreach (string name in e.Links.Prepend(e.Path))
                    for (string? p = Parent(name); p is { Length: > 1 }; p = Parent(p)) needed.Add(p);
                yield return e;
            }
            else if (e.Kind == MapEntryKind.Directory) directories[e.Path] = e;
        }
        foreach (string p in needed.Where(p => !emitted.Contains(p)).OrderBy(p => p.Length).ThenBy(p => p, StringComparer.Ordinal))
            if (directories.TryGetValue(p, out var dir)) yield return dir;
    }

    static string? Parent(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }
}
