using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Offhost.Agent.FrozenImages;
using Offhost.Core.Errors;
using Offhost.Rpc;

namespace Offhost.Agent.Service;

/// <summary>
/// The agent's gRPC server: Kestrel over HTTP/2 with TLS only, every call authenticated by the shared token. Stopping it
/// releases (thaws) every image it holds; if the process dies instead, each freeze's watchdog thaws. Start once, then
/// dispose.
/// </summary>
public sealed class AgentHost : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly ImageRegistry _registry;

    AgentHost(WebApplication app, ImageRegistry registry, Uri address)
    {
        _app = app;
        _registry = registry;
        Address = address;
    }

    /// <summary>The address the agent listens on, with the port actually bound.</summary>
    public Uri Address { get; }

    public static async Task<AgentHost> StartAsync(AgentOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(options.CertificatePath, options.KeyPath);
        }
        catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
        {
            throw new UserFacingException($"cannot load the agent certificate {options.CertificatePath} with key {options.KeyPath}: {e.Message}", e, 2);
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.None);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(options.Listen, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.UseHttps(certificate);
            });
            k.Limits.MaxRequestBodySize = 1 << 20;
        });
        var log = options.Log ?? (_ => { });
        var registry = new ImageRegistry(log);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(registry);
        builder.Services.AddSingleton(new FrozenImageService());
        builder.Services.AddSingleton(new TokenInterceptor(options.Token));
        builder.Services.AddGrpc(g =>
        {
            g.Interceptors.Add<TokenInterceptor>();
            g.MaxReceiveMessageSize = 1 << 20;
            g.MaxSendMessageSize = MapMessages.MaxMessageBytes;
            g.EnableDetailedErrors = false;
        });
        var app = builder.Build();
        app.MapGrpcService<AgentGrpcService>();
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new UserFacingException($"cannot listen on {options.Listen}: {e.Message}", e, 2);
        }
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var uri = new Uri(bound);
        string host = options.Listen.Address.Equals(IPAddress.Any) || options.Listen.Address.Equals(IPAddress.IPv6Any) ? uri.Host : options.Listen.Address.ToString();
        if (host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[')) host = $"[{host}]";
        return new AgentHost(app, registry, new Uri($"https://{host}:{uri.Port}"));
    }

    /// <summary>Waits until the host stops (Ctrl-C, SIGTERM or <paramref name="cancellationToken"/>).</summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _app.Lifetime.ApplicationStopping);
        try { await Task.Delay(Timeout.Infinite, either.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await _registry.DisposeAsync().ConfigureAwait(false);
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
