using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Offhost.Core.Mapping;
using Offhost.Server.Backup;

namespace Offhost.Server.Tests.Backup;

public class FileSetTests
{
    static MapEntry Dir(string path, ulong id) => new(MapEntryKind.Directory, path, id);
    static MapEntry File(string path, ulong id, params string[] links) => new(MapEntryKind.File, path, id) { Links = links };

    /// <summary>Map order as NTFS gives it: files before the directories that hold them.</summary>
    static readonly MapEntry[] Map =
    [
        Dir("/", 5),
        File("/home/alice/notes.txt", 40),
        File("/home/alice/deep/x.bin", 41),
        File("/home/bob/todo.txt", 42, "/srv/shared/todo.txt"),
        File("/etc/passwd", 43),
        File("/var/log/syslog.log", 44),
        Dir("/home", 30), Dir("/home/alice", 31), Dir("/home/alice/deep", 32), Dir("/home/bob", 33),
        Dir("/etc", 34), Dir("/var", 35), Dir("/var/log", 36), Dir("/srv", 37), Dir("/srv/shared", 38),
    ];

    static List<string> Select(params string[] patterns) => new FileSet(patterns).Select(Map).Select(e => e.Path).ToList();

    [Fact]
    public void A_directory_brings_its_tree_and_the_directories_above_it()
    {
        Assert.Equal(["/home/alice/notes.txt", "/home/alice/deep/x.bin", "/home/alice", "/home/alice/deep", "/home"],
            Select("/home/alice"));
    }

    [Fact]
    public void Relative_paths_trailing_slashes_and_name_patterns_are_understood()
    {
        Assert.Equal(Select("/home/alice"), Select("home/alice/"));
        Assert.Equal(["/var/log/syslog.log", "/var", "/var/log"], Select("*.log"));
    }

    [Fact]
    public void A_file_selected_by_a_hard_link_name_comes_with_the_directories_of_every_name()
    {
        // Directories after the files, parents before children.
        Assert.Equal(["/home/bob/todo.txt", "/srv", "/home", "/home/bob", "/srv/shared"], Select("/srv/shared/todo.txt"));
    }

    [Fact]
    public void Patterns_that_select_nothing_are_reported()
    {
        var set = new FileSet(["/etc/passwd", "/no/such/file"]);
        Assert.Equal(["/etc/passwd", "/etc"], set.Select(Map).Select(e => e.Path));
        Assert.Equal(["/no/such/file"], set.Unmatched);
        Assert.Throws<ArgumentException>(() => new FileSet([]));
    }

    /// <summary>Whatever the patterns, the selection is a subset of the map without repeats, every selected entry's
    /// ancestors that the map lists are selected too, and the root never is.</summary>
    [Property(MaxTest = 300)]
    public Property Selection_is_a_closed_subset_without_repeats(NonEmptyArray<NonEmptyString> raw)
    {
        var patterns = raw.Get.Select(p => p.Get.Replace("\0", "", StringComparison.Ordinal)).Where(p => p.Length > 0).ToArray();
        FileSet set;
        try { set = new FileSet(patterns); }
        catch (ArgumentException) { return true.ToProperty(); }   // malformed glob: refused up front
        var selected = set.Select(Map).ToList();
        var paths = selected.Select(e => e.Path).ToList();
        bool closed = selected.All(e => e.Links.Prepend(e.Path).All(name => Ancestors(name).All(a => Map.All(m => m.Path != a) || paths.Contains(a))));
        return (paths.Distinct().Count() == paths.Count && paths.All(p => Map.Any(m => m.Path == p)) && !paths.Contains("/") && closed).ToProperty();
    }

    static IEnumerable<string> Ancestors(string path)
    {
        for (int i = path.LastIndexOf('/'); i > 0; i = path.LastIndexOf('/', i - 1)) yield return path[..i];
    }
}
