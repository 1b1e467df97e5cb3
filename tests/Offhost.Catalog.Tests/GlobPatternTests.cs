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
}
