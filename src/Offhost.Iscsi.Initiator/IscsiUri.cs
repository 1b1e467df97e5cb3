using System.Globalization;
using System.Text;
using Offhost.Core.Errors;
using Offhost.Iscsi.Login;

namespace Offhost.Iscsi.Initiator;

/// <summary>
/// <c>iscsi://[user[:secret]@]HOST[:PORT][/IQN[/LUN]][?secret-file=PATH&amp;mutual-user=NAME&amp;mutual-secret-file=PATH&amp;digest=crc32c]</c>.
/// HOST may be an IPv6 literal in brackets; PORT defaults to 3260. A secret in the URI itself is accepted but shows
/// in process lists; prefer <c>secret-file</c> or the environment variables <see cref="SecretVariable"/> and
/// <see cref="MutualSecretVariable"/>. <see cref="ToString"/> never shows a secret. Immutable.
/// </summary>
public sealed record IscsiUri
{
    public const int DefaultPort = 3260;
    public const string SecretVariable = "OFFHOST_ISCSI_SECRET";
    public const string MutualSecretVariable = "OFFHOST_ISCSI_MUTUAL_SECRET";

    public required string Host { get; init; }
    public int Port { get; init; } = DefaultPort;
    public string? TargetName { get; init; }
    public int? Lun { get; init; }
    public string? UserName { get; init; }
    /// <summary>Secret given inline in the URI (discouraged).</summary>
    public string? InlineSecret { get; init; }
    public string? SecretFile { get; init; }
    /// <summary>Name the target must present in mutual CHAP (optional).</summary>
    public string? MutualUserName { get; init; }
    public string? MutualSecretFile { get; init; }
    /// <summary>Require CRC32C header and data digests (<c>digest=crc32c</c>).</summary>
    public bool Digests { get; init; }

    /// <summary>Parses the URI; throws <see cref="UserFacingException"/> naming what is wrong.</summary>
    public static IscsiUri Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        const string scheme = "iscsi://";
        if (!text.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            throw Bad(text, "it must start with iscsi://");
        string rest = text[scheme.Length..];
        string query = "";
        int q = rest.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0) { query = rest[(q + 1)..]; rest = rest[..q]; }
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        string authority = slash < 0 ? rest : rest[..slash];
        string path = slash < 0 ? "" : rest[(slash + 1)..];

        string? user = null, secret = null;
        int at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            string userInfo = authority[..at];
            authority = authority[(at + 1)..];
            int colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            user = Decode(text, colon < 0 ? userInfo : userInfo[..colon]);
            if (colon >= 0) secret = Decode(text, userInfo[(colon + 1)..]);
            if (user.Length == 0) throw Bad(text, "the CHAP user name is empty");
        }

        string host;
        int port = DefaultPort;
        string? portText = null;
        if (authority.StartsWith('['))
        {
            int close = authority.IndexOf(']', StringComparison.Ordinal);
            if (close < 0) throw Bad(text, "an IPv6 address must end with ']'");
            host = authority[1..close];
            string after = authority[(close + 1)..];
            if (after.Length > 0)
            {
                if (!after.StartsWith(':')) throw Bad(text, "unexpected text after the IPv6 address");
                portText = after[1..];
            }
        }
        else
        {
            int colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            if (colon >= 0) portText = authority[(colon + 1)..];
        }
        if (host.Length == 0) throw Bad(text, "the host is missing");
        if (portText is not null && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
            throw Bad(text, $"port '{portText}' is not 1..65535");

        string? target = null;
        int? lun = null;
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length > 2) throw Bad(text, "the path must be /IQN/LUN");
        if (segments.Length >= 1) target = Decode(text, segments[0]);
        if (segments.Length == 2)
        {
            if (!int.TryParse(segments[1], NumberStyles.None, CultureInfo.InvariantCulture, out int l) || l > 16383)
                throw Bad(text, $"LUN '{segments[1]}' is not a number 0..16383");
            lun = l;
        }

        var uri = new IscsiUri { Host = host, Port = port, TargetName = target, Lun = lun, UserName = user, InlineSecret = secret };
        foreach (var part in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            string key = eq < 0 ? part : part[..eq];
            string value = eq < 0 ? "" : Decode(text, part[(eq + 1)..]);
            uri = key switch
            {
                "secret-file" => uri with { SecretFile = value },
                "mutual-user" => uri with { MutualUserName = value },
                "mutual-secret-file" => uri with { MutualSecretFile = value },
                "digest" when value.Equals("crc32c", StringComparison.OrdinalIgnoreCase) => uri with { Digests = true },
                "digest" when value.Equals("none", StringComparison.OrdinalIgnoreCase) => uri with { Digests = false },
                _ => throw Bad(text, $"unknown option '{key}' (known: secret-file, mutual-user, mutual-secret-file, digest=crc32c|none)"),
            };
        }
        return uri;
    }

    /// <summary>The CHAP credentials this URI asks for, with secrets from the URI, the files it names, or the
    /// environment (in that order); null when no user name is given. Throws <see cref="UserFacingException"/> when
    /// a user is named but no secret can be found.</summary>
    public ChapCredentials? ResolveCredentials(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (UserName is null) return null;
        string secret = InlineSecret
            ?? ReadSecretFile(SecretFile)
            ?? environment(SecretVariable)
            ?? throw new UserFacingException($"CHAP user '{UserName}' is given for {this} but no secret: set {SecretVariable} or add ?secret-file=PATH", 2);
        string? mutual = ReadSecretFile(MutualSecretFile) ?? environment(MutualSecretVariable);
        return new ChapCredentials(UserName, Encoding.UTF8.GetBytes(secret))
        {
            TargetSecret = mutual is null ? null : Encoding.UTF8.GetBytes(mutual),
            TargetUserName = MutualUserName,
        };
    }

    static string? ReadSecretFile(string? path)
    {
        if (path is null) return null;
        try
        {
            var info = new FileInfo(path);
            if (info.Length > Chap.MaxSecretBytes * 4)
                throw new UserFacingException($"secret file {path} is {info.Length} bytes; a CHAP secret file holds one line", 2);
            // One line; a trailing newline from an editor or echo is not part of the secret.
            return File.ReadAllText(path).TrimEnd('\r', '\n');
        }
        catch (IOException e)
        {
            throw new UserFacingException($"cannot read secret file {path}: {e.Message}", e, 2);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new UserFacingException($"cannot read secret file {path}: {e.Message}", e, 2);
        }
    }

    static string Decode(string uri, string s)
    {
        try
        {
            return Uri.UnescapeDataString(s);
        }
        catch (UriFormatException)
        {
            throw Bad(uri, "bad percent-encoding");
        }
    }

    static UserFacingException Bad(string text, string reason) =>
        new($"invalid iSCSI URI '{Redact(text)}': {reason}", 2);

    /// <summary>Removes an inline secret from URI text for messages.</summary>
    static string Redact(string text)
    {
        int start = text.IndexOf("://", StringComparison.Ordinal);
        if (start < 0) return text;
        int end = text.IndexOfAny(['/', '?'], start + 3);
        string authority = end < 0 ? text[(start + 3)..] : text[(start + 3)..end];
        int at = authority.LastIndexOf('@');
        if (at < 0) return text;
        int colon = authority.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || colon > at) return text;
        return text[..(start + 3)] + authority[..colon] + ":***" + authority[at..] + (end < 0 ? "" : text[end..]);
    }

    /// <summary>The URI without any secret (an inline one shows as ***).</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("iscsi://");
        if (UserName is not null)
        {
            sb.Append(Uri.EscapeDataString(UserName));
            if (InlineSecret is not null) sb.Append(":***");
            sb.Append('@');
        }
        sb.Append(Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host);
        if (Port != DefaultPort) sb.Append(':').Append(Port.ToString(CultureInfo.InvariantCulture));
        if (TargetName is not null) sb.Append('/').Append(TargetName);
        if (Lun is int lun) sb.Append('/').Append(lun.ToString(CultureInfo.InvariantCulture));
        var options = new List<string>();
        if (SecretFile is not null) options.Add($"secret-file={SecretFile}");
        if (MutualUserName is not null) options.Add($"mutual-user={MutualUserName}");
        if (MutualSecretFile is not null) options.Add($"mutual-secret-file={MutualSecretFile}");
        if (Digests) options.Add("digest=crc32c");
        if (options.Count > 0) sb.Append('?').Append(string.Join('&', options));
        return sb.ToString();
    }
}
