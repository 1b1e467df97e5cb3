using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Offhost.Core.Errors;
using Offhost.Rpc;
using Offhost.Rpc.V1;

namespace Offhost.Server.Remote;

/// <summary>How the backup host reaches an agent.</summary>
public sealed record AgentConnectionOptions
{
    /// <summary><c>https://HOST:PORT</c> of the agent.</summary>
    public required Uri Address { get; init; }

    /// <summary>The shared token (sent as a bearer token over TLS); never logged.</summary>
    public required string Token { get; init; }

    /// <summary>PEM CA certificate that signed the agent's certificate; the agent is trusted only through it.</summary>
    public required string CaCertificatePath { get; init; }

    /// <summary>Opens the TCP connection (e.g. from another network namespace); default: an ordinary connect.</summary>
    public Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<System.IO.Stream>>? Connect { get; init; }
}

/// <summary>
/// A TLS connection to an agent: the agent's certificate must chain to the given CA and name the host dialled; every
/// call carries the token. Calls that fail come back as <see cref="UserFacingException"/> saying which call and why.
/// Thread-safe; dispose once.
/// </summary>
public sealed class AgentConnection : IDisposable
{
    readonly GrpcChannel _channel;
    readonly X509Certificate2Collection _trust;

    public AgentConnection(AgentConnectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Address.Scheme != Uri.UriSchemeHttps)
            throw new UserFacingException($"--agent {options.Address}: the agent is reached over TLS only (https://HOST:PORT)", 2);
        _trust = new X509Certificate2Collection();
        try { _trust.ImportFromPemFile(options.CaCertificatePath); }
        catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
        {
            throw new UserFacingException($"{options.CaCertificatePath}: cannot read the agent CA certificate: {e.Message}", e, 2);
        }
        if (_trust.Count == 0) throw new UserFacingException($"{options.CaCertificatePath}: no certificate in it", 2);

        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = TimeSpan.FromSeconds(15),
            KeepAlivePingDelay = TimeSpan.FromSeconds(15),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(15),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = Validate },
        };
        if (options.Connect is not null) handler.ConnectCallback = options.Connect;
        string token = options.Token;
        var credentials = CallCredentials.FromInterceptor((_, metadata) =>
        {
            metadata.Add("authorization", "Bearer " + token);
            return Task.CompletedTask;
        });
        _channel = GrpcChannel.ForAddress(options.Address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            Credentials = ChannelCredentials.Create(new SslCredentials(), credentials),
            MaxReceiveMessageSize = MapMessages.MaxMessageBytes,
            MaxSendMessageSize = 1 << 20,
        });
        Client = new Rpc.V1.Agent.AgentClient(_channel);
        Address = options.Address;
    }

    public Uri Address { get; }

    public Rpc.V1.Agent.AgentClient Client { get; }

    bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null) return false;
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_trust);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
            foreach (var element in chain.ChainElements) custom.ChainPolicy.ExtraStore.Add(element.Certificate);
        using var leaf = new X509Certificate2(certificate);
        return custom.Build(leaf);
    }

    /// <summary>Runs one call and turns its failure into a message for the operator.</summary>
    public async Task<T> CallAsync<T>(string what, Func<Rpc.V1.Agent.AgentClient, Task<T>> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        try { return await call(Client).ConfigureAwait(false); }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
        {
            throw new UserFacingException(e.StatusCode switch
            {
                StatusCode.Unauthenticated => $"agent {Address} refused {what}: {e.Status.Detail} (check the token file)",
                StatusCode.Unavailable => $"agent {Address} unreachable during {what}: {e.Status.Detail}",
                _ => $"agent {Address}: {what} failed ({e.StatusCode}): {e.Status.Detail}",
            }, e, 1);
        }
    }

    public void Dispose() => _channel.Dispose();
}
