using Grpc.Core;
using Offhost.Core.Errors;
using Offhost.Rpc.V1;

namespace Offhost.Server.Remote;

/// <summary>What to ask the agent for.</summary>
public sealed record RemoteImageRequest(string Target)
{
    /// <summary>auto, reflink, freeze or none.</summary>
    public string Provider { get; init; } = "auto";
    /// <summary>0: the agent's maximum.</summary>
    public TimeSpan MaxFreeze { get; init; }
    public bool SkipQuiesce { get; init; }
}

/// <summary>
/// The backup host's side of one frozen image on an agent: create it, fetch its map, check its configuration ID
/// immediately before the copy and remap on a mismatch, check again after the copy, and release it. The copy itself is
/// the caller's (the mover reads the shared storage with its own I/O; no file data passes through the agent).
/// Not thread-safe. Disposing releases the image (a failure to reach the agent then is ignored: the agent's lifetime
/// and watchdog release it).
/// </summary>
public sealed class RemoteImageSession : IAsyncDisposable
{
    /// <summary>How many remaps in a row a copy may need before the source is declared too busy to back up.</summary>
    public const int MaxRemapsBeforeCopy = 5;

    readonly AgentConnection _agent;
    bool _released;

    RemoteImageSession(AgentConnection agent, FrozenImageReply image)
    {
        _agent = agent;
        Image = image;
    }

    public FrozenImageReply Image { get; }

    public string ImageId => Image.ImageId;

    public static async Task<RemoteImageSession> CreateAsync(AgentConnection agent, RemoteImageRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(agent);
        ArgumentNullException.ThrowIfNull(request);
        var reply = await agent.CallAsync($"CreateFrozenImage({request.Target})", c => c.CreateFrozenImageAsync(new CreateFrozenImageRequest
        {
            Target = request.Target,
            Provider = request.Provider,
            MaxFreezeSeconds = (uint)Math.Clamp(Math.Ceiling(request.MaxFreeze.TotalSeconds), 0, uint.MaxValue),
            SkipQuiesce = request.SkipQuiesce,
        }, cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        return new RemoteImageSession(agent, reply);
    }

    /// <summary>Streams the storage map of every volume of the image.</summary>
    public Task<RemoteMap> FetchMapAsync(CancellationToken cancellationToken) =>
        _agent.CallAsync($"StreamStorageMap({ImageId})", async c =>
        {
            using var call = c.StreamStorageMap(new ImageRef { ImageId = ImageId }, cancellationToken: cancellationToken);
            return await RemoteMap.ReadAsync(call.ResponseStream, cancellationToken).ConfigureAwait(false);
        });

    public Task<ConfigurationIdReply> GetConfigurationIdAsync(CancellationToken cancellationToken) =>
        _agent.CallAsync($"GetConfigurationId({ImageId})",
            c => c.GetConfigurationIdAsync(new ImageRef { ImageId = ImageId }, cancellationToken: cancellationToken).ResponseAsync);

    /// <summary>Asks for the entries changed since the map's configuration ID and applies them to <paramref name="map"/>.</summary>
    public Task<RemapResult> RemapAsync(RemoteMap map, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(map);
        return _agent.CallAsync($"Remap({ImageId}, {map.ConfigurationId})", async c =>
        {
            using var call = c.Remap(new RemapRequest { ImageId = ImageId, Since = map.ConfigurationId }, cancellationToken: cancellationToken);
            return await map.ApplyRemapAsync(call.ResponseStream, cancellationToken).ConfigureAwait(false);
        });
    }

    /// <summary>
    /// The check immediately before I/O: while the agent's configuration ID differs from the map's, remaps (the map then
    /// describes the image as it is now). Returns the remaps made, none when the map was current.
    /// </summary>
    public async Task<IReadOnlyList<RemapResult>> EnsureCurrentAsync(RemoteMap map, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(map);
        var remaps = new List<RemapResult>();
        for (int round = 0; ; round++)
        {
            var now = await GetConfigurationIdAsync(cancellationToken).ConfigureAwait(false);
            if (now.ConfigurationId == map.ConfigurationId) return remaps;
            if (round == MaxRemapsBeforeCopy)
                throw new UserFacingException($"{Image.Target} on agent {_agent.Address} kept changing: {MaxRemapsBeforeCopy} remaps did not catch up; " +
                                              "take the image with a provider that holds it (freeze or reflink), or stop the writers");
            remaps.Add(await RemapAsync(map, cancellationToken).ConfigureAwait(false));
        }
    }

    /// <summary>
    /// The check after the copy: the image must still be the one the map describes. Otherwise the copy may hold bytes of
    /// two states, and it fails (its index is not trusted, the catalog does not mark it good).
    /// </summary>
    public async Task VerifyUnchangedAsync(RemoteMap map, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(map);
        var now = await GetConfigurationIdAsync(cancellationToken).ConfigureAwait(false);
        if (now.ConfigurationId != map.ConfigurationId)
            throw new UserFacingException($"{Image.Target} on agent {_agent.Address} changed while it was copied " +
                                          $"(configuration ID {map.ConfigurationId} became {now.ConfigurationId}); the copy is not a consistent image");
    }

    /// <summary>Opens the watch of the image (see agent.proto); the caller reads and disposes it.</summary>
    public AsyncServerStreamingCall<WatchEvent> Watch(CancellationToken cancellationToken) =>
        _agent.Client.Watch(new ImageRef { ImageId = ImageId }, cancellationToken: cancellationToken);

    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        if (_released) return;
        await _agent.CallAsync($"ReleaseFrozenImage({ImageId})",
            c => c.ReleaseFrozenImageAsync(new ImageRef { ImageId = ImageId }, cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        _released = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_released) return;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await ReleaseAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is UserFacingException or OperationCanceledException) { }
    }
}
