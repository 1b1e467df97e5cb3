using Grpc.Core;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Rpc.V1;
using Offhost.Server.Backup;

namespace Offhost.Server.Remote;

/// <summary>
/// Frozen images made by an agent on the application host (<c>offhost backup --agent</c>). For each target the agent
/// freezes and maps; this host receives the map, finds the device by its identity among its own (or the given
/// <paramref name="luns"/>) and reads it with its own I/O. Immediately before the copy the configuration ID is checked
/// and a changed layout remapped; after the copy it is checked again, and the image is watched throughout, so a copy of
/// an image that changed or whose agent died never gets an index. Thread-safe for distinct targets.
/// </summary>
public sealed class AgentFrozenSources(AgentConnection agent, RemoteImageRequest settings, IReadOnlyList<string> luns) : IFrozenSourceProvider
{
    public async Task<IFrozenSource> FreezeAsync(string target, CancellationToken cancellationToken)
    {
        var session = await RemoteImageSession.CreateAsync(agent, settings with { Target = target }, cancellationToken).ConfigureAwait(false);
        try
        {
            var map = await session.FetchMapAsync(cancellationToken).ConfigureAwait(false);
            string device = DeviceResolver.Resolve(map.Volumes, luns);
            var source = new AgentFrozenSource(target, session, map, device);
            await source.StartWatchAsync(cancellationToken).ConfigureAwait(false);
            return source;
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    sealed class AgentFrozenSource(string target, RemoteImageSession session, RemoteMap map, string device) : IFrozenSource
    {
        readonly CancellationTokenSource _lost = new();
        readonly CancellationTokenSource _stopWatching = new();
        AsyncServerStreamingCall<WatchEvent>? _watch;
        Task? _watcher;

        public string Target => target;
        public string ReadPath => device;
        public string Provider => session.Image.Provider;
        public DateTimeOffset FrozenAt => DateTimeOffset.FromUnixTimeMilliseconds(session.Image.CreatedUnixMs);
        public CancellationToken Expired => _lost.Token;
        public IReadOnlyList<IVolumeMapper>? Mappers { get; } = map.Mappers(device);

        /// <summary>Why the image stopped holding, once <see cref="Expired"/> fired.</summary>
        string _lostReason = "";

        internal async Task StartWatchAsync(CancellationToken ct)
        {
            _watch = session.Watch(_stopWatching.Token);
            if (!await _watch.ResponseStream.MoveNext(ct).ConfigureAwait(false) || _watch.ResponseStream.Current.State != "held")
                throw new UserFacingException($"agent: frozen image {session.ImageId} of {target} is not held");
            _watcher = Task.Run(async () =>
            {
                try
                {
                    while (await _watch.ResponseStream.MoveNext(_stopWatching.Token).ConfigureAwait(false))
                    {
                        _lostReason = $"the agent reports frozen image {session.ImageId} {_watch.ResponseStream.Current.State}";
                        break;
                    }
                    if (_lostReason.Length == 0) _lostReason = "the agent closed the watch of the frozen image";
                }
                catch (RpcException e) { _lostReason = $"the agent was lost ({e.StatusCode}: {e.Status.Detail})"; }
                catch (OperationCanceledException) { return; }
                if (!_stopWatching.IsCancellationRequested) await _lost.CancelAsync().ConfigureAwait(false);
            }, CancellationToken.None);
        }

        public async Task<IReadOnlyList<string>> CheckBeforeCopyAsync(CancellationToken cancellationToken)
        {
            ThrowIfLost();
            var remaps = await session.EnsureCurrentAsync(map, cancellationToken).ConfigureAwait(false);
            ThrowIfLost();
            return remaps.Select(r => r.Describe()).ToList();
        }

        public async Task CheckAfterCopyAsync(CancellationToken cancellationToken)
        {
            ThrowIfLost();
            await session.VerifyUnchangedAsync(map, cancellationToken).ConfigureAwait(false);
            ThrowIfLost();
        }

        void ThrowIfLost()
        {
            if (_lost.IsCancellationRequested)
                throw new UserFacingException($"{target}: {_lostReason}; the image may have changed, so this copy is not a backup");
        }

        public async ValueTask DisposeAsync()
        {
            await _stopWatching.CancelAsync().ConfigureAwait(false);
            if (_watcher is not null) await _watcher.ConfigureAwait(false);
            _watch?.Dispose();
            await session.DisposeAsync().ConfigureAwait(false);
            _lost.Dispose();
            _stopWatching.Dispose();
        }
    }
}
