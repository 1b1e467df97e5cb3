using System.Collections.Concurrent;
using Offhost.Agent.Configuration;
using Offhost.Agent.FrozenImages;
using Offhost.Core.Mapping;

namespace Offhost.Agent.Service;

/// <summary>A frozen image the agent holds for a client, with the configuration states it has reported.</summary>
internal sealed class HeldImage(FrozenImage image, IReadOnlyList<(VolumeInfo Volume, long DeviceSizeBytes)> volumes, DeviceNames names) : IAsyncDisposable
{
    const int KeptStates = 8;
    readonly List<ConfigurationState> _states = [];
    readonly CancellationTokenSource _released = new();

    /// <summary>Fires when the agent released the image.</summary>
    public CancellationToken Released => _released.Token;

    public FrozenImage Image { get; } = image;
    public IReadOnlyList<(VolumeInfo Volume, long DeviceSizeBytes)> Volumes { get; } = volumes;
    public DeviceNames Names { get; } = names;

    /// <summary>One scan at a time per image: scans flush and read the device, and states are recorded in order.</summary>
    public SemaphoreSlim ScanLock { get; } = new(1, 1);

    /// <summary>Remembers a state reported to the client. The first (the state at creation) is always kept, so a remap
    /// against the map's ID stays possible; the others are the latest few.</summary>
    public void Record(ConfigurationState state)
    {
        lock (_states)
        {
            if (_states.Count > 0 && _states[^1].Id == state.Id) return;
            _states.Add(state);
            if (_states.Count > KeptStates) _states.RemoveAt(1);
        }
    }

    public ConfigurationState? Find(string id)
    {
        lock (_states) return _states.LastOrDefault(s => s.Id == id);
    }

    public async ValueTask DisposeAsync()
    {
        await Image.ReleaseAsync().ConfigureAwait(false);
        await _released.CancelAsync().ConfigureAwait(false);
    }
}

/// <summary>The images the agent holds, by id. Each is released by its client, at the end of its lifetime (the agent's
/// maximum freeze), or when the agent stops. Thread-safe.</summary>
internal sealed class ImageRegistry(Action<string> log) : IAsyncDisposable
{
    readonly ConcurrentDictionary<string, HeldImage> _images = new(StringComparer.Ordinal);

    public void Add(HeldImage held, TimeSpan lifetime)
    {
        _images[held.Image.Id] = held;
        _ = ExpireAsync(held.Image.Id, lifetime);
    }

    async Task ExpireAsync(string id, TimeSpan lifetime)
    {
        await Task.Delay(lifetime).ConfigureAwait(false);
        if (await ReleaseAsync(id).ConfigureAwait(false)) log($"frozen image {id} reached its lifetime of {lifetime} and was released");
    }

    public HeldImage? Find(string id) => _images.TryGetValue(id, out var h) ? h : null;

    public async Task<bool> ReleaseAsync(string id)
    {
        if (!_images.TryRemove(id, out var held)) return false;
        await held.DisposeAsync().ConfigureAwait(false);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var id in _images.Keys.ToList())
            if (await ReleaseAsync(id).ConfigureAwait(false)) log($"frozen image {id} released as the agent stops");
    }
}
