using Offhost.Agent.FrozenImages;
using Offhost.Core.Mapping;

namespace Offhost.Server.Backup;

/// <summary>Frozen images made in this process by the agent library (<see cref="FrozenImageService"/>): the default,
/// single-host deployment. Thread-safe.</summary>
public sealed class LocalFrozenSources(FrozenImageOptions options) : IFrozenSourceProvider
{
    readonly FrozenImageService _service = new();

    public async Task<IFrozenSource> FreezeAsync(string target, CancellationToken cancellationToken) =>
        new Local(target, await _service.CreateAsync(target, options, cancellationToken).ConfigureAwait(false));

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
