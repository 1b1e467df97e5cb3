using System.CommandLine;
using Offhost.Agent.FrozenImages;
using Offhost.Agent.Service;
using Offhost.Core.Errors;
using Offhost.Server.Remote;

namespace Offhost.Cli.Commands;

/// <summary>The options of <c>offhost backup</c> that make it take its frozen images from an agent on the application
/// host (docs/two-hosts.md) instead of in this process.</summary>
internal sealed class AgentClientOptions
{
    readonly Option<string?> _agent = new("--agent") { Description = "Take frozen images and storage maps from the agent at https://HOST:PORT; SOURCEs are then paths on the application host" };
    readonly Option<string?> _ca = new("--agent-ca") { Description = "PEM CA certificate that signed the agent's certificate (required with --agent)" };
    readonly Option<string?> _token = new("--agent-token-file") { Description = "File holding the agent's shared token (default: $OFFHOST_AGENT_TOKEN_FILE)" };
    readonly Option<string[]> _luns = new("--lun") { Description = "With --agent: this host's path of the shared device (repeatable); default: every block device is examined and the one whose identity matches is used" };

    public static AgentClientOptions Create() => new();

    public void AddTo(Command command)
    {
        command.Options.Add(_agent);
        command.Options.Add(_ca);
        command.Options.Add(_token);
        command.Options.Add(_luns);
    }

    /// <summary>The connection to the agent, or null without --agent.</summary>
    public AgentConnection? Connect(ParseResult r)
    {
        string? address = r.GetValue(_agent);
        if (address is null)
        {
            if (r.GetValue(_luns) is { Length: > 0 }) throw new UserFacingException("--lun needs --agent", ExitCodes.Usage);
            return null;
        }
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
            throw new UserFacingException($"--agent {address}: expected https://HOST:PORT", ExitCodes.Usage);
        string ca = r.GetValue(_ca) ?? throw new UserFacingException("--agent needs --agent-ca (the CA certificate that signed the agent's certificate)", ExitCodes.Usage);
        string tokenFile = r.GetValue(_token) ?? Environment.GetEnvironmentVariable("OFFHOST_AGENT_TOKEN_FILE")
            ?? throw new UserFacingException("--agent needs --agent-token-file or OFFHOST_AGENT_TOKEN_FILE", ExitCodes.Usage);
        var token = AgentToken.FromFile(tokenFile);
        return new AgentConnection(new AgentConnectionOptions { Address = uri, CaCertificatePath = ca, Token = token.Value });
    }

    public AgentFrozenSources Sources(ParseResult r, AgentConnection connection, FrozenImageOptions options)
    {
        if (options.SnapshotDirectory is not null) throw new UserFacingException("--snapshot-dir is the agent's to choose; it cannot be given with --agent", ExitCodes.Usage);
        return new AgentFrozenSources(connection, new RemoteImageRequest("")
        {
            Provider = options.Provider.ToString().ToLowerInvariant(),
            MaxFreeze = options.MaxFreeze,
            SkipQuiesce = !options.Quiesce.Enabled,
        }, r.GetValue(_luns) ?? []);
    }
}
