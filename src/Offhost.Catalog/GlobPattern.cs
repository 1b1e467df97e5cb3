using System.Text;
using System.Text.RegularExpressions;

namespace Offhost.Catalog;

/// <summary>
/// A path pattern: <c>*</c> matches within one path component, <c>**</c> across components, <c>?</c> one
/// character (not '/'), <c>[abc]</c>/<c>[a-z]</c>/<c>[!x]</c> a class, <c>\</c> escapes. A pattern with no '/'
/// matches the file name only (like <c>find -name</c>); otherwise the whole path. Case-sensitive.
/// </summary>
public sealed class GlobPattern
{
    readonly Regex _regex;

    /// <exception cref="ArgumentException">The pattern is malformed (for example a reversed range <c>[z-a]</c>).</exception>
    public GlobPattern(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        Pattern = pattern;
        MatchesNameOnly = !pattern.Contains('/', StringComparison.Ordinal);
        (_regex, LiteralPrefix) = Compile(pattern);
    }

    public string Pattern { get; }

    /// <summary>True when the pattern applies to the last path component only.</summary>
    public bool MatchesNameOnly { get; }

    /// <summary>The characters every match starts with (before the first wildcard); empty for name-only patterns.</summary>
    public string LiteralPrefix { get; }

    public bool IsMatch(string path)
    {
        string subject = MatchesNameOnly ? path[(path.LastIndexOf('/') + 1)..] : path;
        return _regex.IsMatch(subject);
    }

    static (Regex, string) Compile(string p)
    {
        var re = new StringBuilder("^");
        var prefix = new StringBuilder();
        bool literal = true;
        for (int i = 0; i < p.Length; i++)
        {
            char c = p[i];
            switch (c)
            {
                case '*' when i + 1 < p.Length && p[i + 1] == '*':
                    i++;
                    // "**/" also matches zero directories.
                    if (i + 1 < p.Length && p[i + 1] == '/') { i++; re.Append("(?:.*/)?"); }
                    else re.Append(".*");
                    literal = false;
                    break;
                case '*':
                    re.Append("[^/]*");
                    literal = false;
                    break;
                case '?':
                    re.Append("[^/]");
                    literal = false;
                    break;
                case '[':
                    int close = p.IndexOf(']', i + 2);
                    if (close < 0) goto default;
                    string body = p[(i + 1)..close];
                    bool negate = body.StartsWith('!') || body.StartsWith('^');
                    if (negate) body = body[1..];
                    re.Append('[').Append(negate ? "^/" : "");
                    foreach (char b in body) re.Append(b is '\\' or ']' or '[' or '^' ? "\\" + b : b.ToString());
                    re.Append(']');
                    i = close;
                    literal = false;
                    break;
                case '\\' when i + 1 < p.Length:
                    i++;
                    re.Append(Regex.Escape(p[i].ToString()));
                    if (literal) prefix.Append(p[i]);
                    break;
                default:
                    re.Append(Regex.Escape(c.ToString()));
                    if (literal) prefix.Append(c);
                    break;
            }
        }
        re.Append('$');
        Regex regex;
        try
        {
            regex = new Regex(re.ToString(), RegexOptions.CultureInvariant | RegexOptions.NonBacktracking | RegexOptions.Singleline);
        }
        catch (ArgumentException e)
        {
            // e.g. a reversed range such as [z-a].
            throw new ArgumentException($"invalid pattern '{p}': {e.Message}", nameof(p), e);
        }
        return (regex, p.Contains('/', StringComparison.Ordinal) ? prefix.ToString() : "");
    }
}
