using Offhost.Agent.FrozenImages;
using Offhost.Core.Mapping;

namespace Offhost.Server.Backup;

/// <summary>Frozen images made in this process by the agent library (<see cref="FrozenImageService"/>): the default,
/// single-host deployment. Thread-safe.</summary>
public sealed class LocalFrozenSources(FrozenImageOptions options) : IFrozenSourceProvider
{
    readonly FrozenImageService _service = new();

    public async Task<IFrozenSource> FreezeAsync(string target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (target.StartsWith("iscsi://", StringComparison.OrdinalIgnoreCase))
        {
            // A LUN this host reaches only over iSCSI: its writers are elsewhere, so nothing here can watch or freeze them.
            if (options.Provider is not (SnapshotProvider.Auto or SnapshotProvider.None))
                throw new Core.Errors.UserFacingException($"{IscsiSafeName(target)}: an iSCSI LUN cannot be frozen or cloned from here; " +
                    "snapshot it on the storage (or back it up through an agent on its application host) and back up the snapshot LUN with --snapshot none", 2);
            return new Offline(target, DateTimeOffset.UtcNow);
        }
        return new Local(target, await _service.CreateAsync(target, options, cancellationToken).ConfigureAwait(false));
    }

    static string IscsiSafeName(string uri)
    {
        int at = uri.IndexOf('@', StringComparison.Ordinal);
        return at < 0 ? uri : "iscsi://" + uri[(at + 1)..];
    }

    sealed class Offline(string target, DateTimeOffset at) : IFrozenSource
    {
        public string Target => target;
        public string ReadPath => target;
        public string Provider => "none";
        public DateTimeOffset FrozenAt => at;
        public CancellationToken Expired => CancellationToken.None;
        public IReadOnlyList<IVolumeMapper>? Mappers => null;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    sealed class Local(string target, FrozenImage image) : IFrozenSource
    {
        public string Target => target;
        public string ReadPath => image.SnapshotPath;
        public string Provider => image.Provider.ToString().ToLowerInvariant();
        public DateTimeOffset FrozenAt => image.CreatedAt;
        public CancellationToken Expired => image.Expired;
        public IReadOnlyList<IVolumeMapper>? Mappers => null;
        public ValueTask DisposeAsync() => image.DisposeAsync();
    }
}
