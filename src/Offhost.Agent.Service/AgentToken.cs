using System.Security.Cryptography;
using System.Text;
using Offhost.Core.Errors;

namespace Offhost.Agent.Service;

/// <summary>
/// The shared secret both hosts hold, sent over TLS as <c>authorization: Bearer TOKEN</c>. Read from a file (never from
/// the command line, where other users see it in the process list); at least 32 characters. Compared in constant time
/// through its SHA-256. Its text is never logged and <see cref="ToString"/> hides it. Immutable and thread-safe.
/// </summary>
public sealed class AgentToken
{
    public const int MinimumLength = 32;
    readonly byte[] _digest;

    AgentToken(string value)
    {
        Value = value;
        _digest = SHA256.HashData(Encoding.UTF8.GetBytes(value));
    }

    /// <summary>The token text, for the client's request header only.</summary>
    public string Value { get; }

    public static AgentToken FromText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim();
        if (t.Length < MinimumLength || t.Any(char.IsWhiteSpace) || t.Any(char.IsControl))
            throw new UserFacingException($"the agent token must be at least {MinimumLength} characters without spaces (make one with: openssl rand -hex 32)", 2);
        return new AgentToken(t);
    }

    public static AgentToken FromFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserFacingException($"{path}: cannot read the agent token: {e.Message}", e, 2);
        }
        return FromText(text);
    }

    /// <summary>True when <paramref name="authorizationHeader"/> is <c>Bearer</c> followed by this token.</summary>
    public bool Accepts(string? authorizationHeader)
    {
        const string Scheme = "Bearer ";
        if (authorizationHeader is null || !authorizationHeader.StartsWith(Scheme, StringComparison.Ordinal)) return false;
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(authorizationHeader[Scheme.Length..]));
        return CryptographicOperations.FixedTimeEquals(presented, _digest);
    }

    public override string ToString() => "(agent token)";
}
