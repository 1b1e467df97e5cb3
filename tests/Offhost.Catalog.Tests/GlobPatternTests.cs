using FsCheck;
using FsCheck.Xunit;

namespace Offhost.Catalog.Tests;

public class GlobPatternTests
{
    [Theory]
    [InlineData("*.txt", "/a/b/c.txt", true)]
    [InlineData("*.txt", "/a/b/c.txt.bak", false)]
    [InlineData("/a/*.txt", "/a/c.txt", true)]
    [InlineData("/a/*.txt", "/a/b/c.txt", false)]
    [InlineData("/a/**.txt", "/a/b/c.txt", true)]
    [InlineData("/a/**/c.txt", "/a/c.txt", true)]
    [InlineData("/a/**/c.txt", "/a/x/y/c.txt", true)]
    [InlineData("/a/?.txt", "/a/c.txt", true)]
    [InlineData("/a/?.txt", "/a/cc.txt", false)]
    [InlineData("/a/[bc].txt", "/a/c.txt", true)]
    [InlineData("/a/[!bc].txt", "/a/c.txt", false)]
    [InlineData("/a/[a-z]x", "/a/qx", true)]
    [InlineData("/a/\\*", "/a/*", true)]
    [InlineData("/a/\\*", "/a/b", false)]
    [InlineData("/Users/**", "/users/x", false)]
    [InlineData("/a/[b", "/a/[b", true)]
    public void Matches_like_a_shell_glob(string pattern, string path, bool expected) =>
        Assert.Equal(expected, new GlobPattern(pattern).IsMatch(path));

    [Theory]
    [InlineData("/home/*/x", "/home/")]
    [InlineData("*.txt", "")]
    [InlineData("/a/b\\*c/*", "/a/b*c/")]
    public void Literal_prefix_stops_at_the_first_wildcard(string pattern, string prefix) =>
        Assert.Equal(prefix, new GlobPattern(pattern).LiteralPrefix);

    [Property(MaxTest = 300)]
    public bool Arbitrary_patterns_compile_or_raise_argument_exception_and_never_throw_on_match(NonNull<string> pattern, NonNull<string> path)
    {
        GlobPattern g;
        try { g = new GlobPattern(pattern.Get); }
        catch (ArgumentException) { return true; }
        // The SQL prefilter is sound: whatever matches starts with the literal prefix.
        return !g.IsMatch(path.Get) || path.Get.StartsWith(g.LiteralPrefix, StringComparison.Ordinal);
    }

    [Property(MaxTest = 300)]
    public bool Prefix_is_sound_for_paths_built_from_the_pattern(NonNull<string> pattern)
    {
        GlobPattern g;
        try { g = new GlobPattern("/" + pattern.Get); }
        catch (ArgumentException) { return true; }
        string candidate = "/" + pattern.Get.Replace("**", "x/y", StringComparison.Ordinal).Replace('*', 'z').Replace('?', 'q');
        return !g.IsMatch(candidate) || candidate.StartsWith(g.LiteralPrefix, StringComparison.Ordinal);
    }

    [Property(MaxTest = 200)]
    public bool A_literal_path_matches_itself(NonNull<string> raw)
    {
        string path = "/" + new string(raw.Get.Where(c => c is not ('*' or '?' or '[' or '\\')).ToArray());
        return new GlobPattern(path).IsMatch(path);
    }

    [Fact]
    public void Reversed_range_is_a_clear_argument_error()
    {
        var e = Assert.Throws<ArgumentException>(() => new GlobPattern("/a/[z-a]"));
        Assert.Contains("invalid pattern '/a/[z-a]'", e.Message, StringComparison.Ordinal);
    }
}
