using System.CommandLine;
using System.Net;
using Offhost.Agent.FrozenImages;
using Offhost.Agent.Service;
using Offhost.Core.Errors;

namespace Offhost.Cli.Commands;

/// <summary><c>offhost agent --listen ADDR:PORT --cert C --key K --token-file T</c>: the application host's service. It makes
/// frozen images and their storage maps for a backup host (docs/two-hosts.md) and runs until Ctrl-C or SIGTERM, which
/// release every image it holds.</summary>
internal static class AgentCommand
{
    public static Command Create()
    {
        var listen = new Option<string>("--listen") { Description = "Address and port to listen on (e.g. 0.0.0.0:7443, [::]:7443; port 0 picks one)", Required = true };
        var cert = new Option<string>("--cert") { Description = "PEM certificate the agent presents (TLS)", Required = true };
        var key = new Option<string>("--key") { Description = "PEM private key of the certificate", Required = true };
        var tokenFile = new Option<string>("--token-file") { Description = "File holding the shared token (at least 32 characters)", Required = true };
        var maxFreeze = new Option<string>("--max-freeze") { Description = "Longest freeze and image lifetime the agent grants", DefaultValueFactory = _ => "10m" };
        var allow = new Option<string[]>("--allow") { Description = "Only these paths (or paths under these directories) may be imaged; repeatable", AllowMultipleArgumentsPerToken = false };
        var quiesceWindow = new Option<string>("--quiesce-window") { Description = "Write inactivity to wait for before a snapshot (0 to skip)", DefaultValueFactory = _ => "3s" };
        var command = new Command("agent", "Run the agent of the application host: frozen images, storage maps and configuration IDs over gRPC (TLS + token)")
        {
            listen, cert, key, tokenFile, maxFreeze, allow, quiesceWindow,
        };
        command.SetAction((r, ct) => RunAsync(new AgentOptions
        {
            Listen = ParseEndpoint(r.GetValue(listen)!),
            CertificatePath = r.GetValue(cert)!,
            KeyPath = r.GetValue(key)!,
            Token = AgentToken.FromFile(r.GetValue(tokenFile)!),
            MaxFreeze = CommonOptions.Duration(r.GetValue(maxFreeze)!, "--max-freeze", FrozenImageOptions.MaxFreezeLimit),
            AllowedTargets = (r.GetValue(allow) ?? []).Select(Path.GetFullPath).ToList(),
            Quiesce = CommonOptions.Duration(r.GetValue(quiesceWindow)!, "--quiesce-window", TimeSpan.FromMinutes(5)) is var w && w > TimeSpan.Zero
                ? QuiesceOptions.Default with { InactivityWindow = w, Timeout = w + QuiesceOptions.Default.Timeout }
                : QuiesceOptions.Disabled,
            Log = line => Console.Out.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-dd'T'HH:mm:ss'Z'} {line}"),
        }, ct));
        return command;
    }

    static async Task<int> RunAsync(AgentOptions options, CancellationToken ct)
    {
        Console.Out.Flush();
        await using var host = await AgentHost.StartAsync(options, ct);
        Console.Out.WriteLine($"agent listening on {host.Address}");
        Console.Out.Flush();
        await host.WaitAsync(ct);
        Console.Out.WriteLine("agent stopping: releasing every frozen image");
        return ExitCodes.Success;
    }

    internal static IPEndPoint ParseEndpoint(string text)
    {
        if (IPEndPoint.TryParse(text, out var ep) && text.Contains(':', StringComparison.Ordinal) && ep.Port is >= 0 and <= 65535) return ep;
        throw new UserFacingException($"--listen {text}: expected ADDRESS:PORT, e.g. 0.0.0.0:7443 or [::]:7443", ExitCodes.Usage);
    }

    /// <summary>A duration as the other verbs take it (<c>90s</c>, <c>500ms</c>, <c>10m</c>, <c>1h</c>), from 0 up to <paramref name="max"/>.</summary>
}
