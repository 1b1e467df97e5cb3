using System.Net;
using Offhost.Agent.FrozenImages;

namespace Offhost.Agent.Service;

/// <summary>How the agent listens and which limits it applies to the images it makes.</summary>
public sealed record AgentOptions
{
    /// <summary>Address and port to listen on; port 0 picks a free port (see <see cref="AgentHost.Address"/>).</summary>
    public required IPEndPoint Listen { get; init; }

    /// <summary>PEM certificate (with its chain) and PEM private key the agent presents over TLS.</summary>
    public required string CertificatePath { get; init; }
    public required string KeyPath { get; init; }

    public required AgentToken Token { get; init; }

    /// <summary>Longest freeze and longest life of an image the agent grants; a client may ask for less.</summary>
    public TimeSpan MaxFreeze { get; init; } = TimeSpan.FromMinutes(10);

    public QuiesceOptions Quiesce { get; init; } = QuiesceOptions.Default;

    /// <summary>When not empty, only these paths (or paths under these directories) may be imaged.</summary>
    public IReadOnlyList<string> AllowedTargets { get; init; } = [];

    /// <summary>Receives one line per event (image created, released, expired, refused). Never receives the token.</summary>
    public Action<string>? Log { get; init; }
}
