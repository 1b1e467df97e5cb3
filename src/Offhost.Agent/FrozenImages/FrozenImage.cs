using Offhost.Io.FileSystems;

namespace Offhost.Agent.FrozenImages;

/// <summary>
/// A point-in-time image of a backup source, to be read at <see cref="SnapshotPath"/> until released. Disposing releases
/// it: thaws what is still frozen (provider freeze) and deletes a reflink clone. Release is idempotent and thread-safe.
/// </summary>
public sealed class FrozenImage : IAsyncDisposable
{
    readonly SemaphoreSlim _releaseLock = new(1, 1);
    readonly CancellationTokenSource _expired = new();
    FreezeGuard? _guard;
    IReadOnlyList<string> _frozen = [];
    string? _cloneToDelete;
    bool _released;

    internal FrozenImage(string id, string sourcePath, string snapshotPath, SnapshotProvider provider, DateTimeOffset createdAt, QuiesceResult quiesce)
    {
        Id = id;
        SourcePath = sourcePath;
        SnapshotPath = snapshotPath;
        Provider = provider;
        CreatedAt = createdAt;
        Quiesce = quiesce;
    }

    /// <summary>Unique id, sortable by creation time: <c>yyyyMMddTHHmmssZ-xxxxxxxx</c>.</summary>
    public string Id { get; }

    /// <summary>The source as given (full path): an image file, a block device or a mounted directory.</summary>
    public string SourcePath { get; }

    /// <summary>What to read: the reflink clone, the frozen device, or the offline image.</summary>
    public string SnapshotPath { get; }

    /// <summary>The provider used (never <see cref="SnapshotProvider.Auto"/>).</summary>
    public SnapshotProvider Provider { get; }

    /// <summary>The snapshot point: when the clone was taken or the file system frozen.</summary>
    public DateTimeOffset CreatedAt { get; }

    public QuiesceResult Quiesce { get; }

    /// <summary>Mount points frozen until release (provider freeze); empty otherwise and after release or expiry.</summary>
    public IReadOnlyList<string> FrozenMountPoints => _frozen;

    /// <summary>Fires when the maximum freeze duration passed and the file systems were thawed before release: from then
    /// on <see cref="SnapshotPath"/> may change under the reader, and the copy must be treated as failed.</summary>
    public CancellationToken Expired => _expired.Token;

    public bool IsReleased => _released;

    internal void HoldFreeze(FreezeGuard guard, IReadOnlyList<string> mountPoints, TimeSpan maxFreeze)
    {
        _guard = guard;
        _frozen = mountPoints;
        _expired.Token.Register(() => _ = ThawOnExpiryAsync());
        _expired.CancelAfter(maxFreeze);
    }

    internal void OwnClone(string clonePath) => _cloneToDelete = clonePath;

    async Task ThawOnExpiryAsync()
    {
        await _releaseLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_released) return;
            await ThawAsync().ConfigureAwait(false);
        }
        finally { _releaseLock.Release(); }
    }

    async Task ThawAsync()
    {
        var guard = _guard;
        _guard = null;
        bool allThawed = true;
        foreach (string mp in _frozen)
        {
            try { FileSystemFreeze.Thaw(mp); }
            catch (Exception) { allThawed = false; }
        }
        _frozen = [];
        if (guard is not null)
        {
            // If an in-process thaw failed, let the watchdog try with fsfreeze.
            if (allThawed) await guard.ReleaseAsync().ConfigureAwait(false);
            else await guard.ThawNowAsync().ConfigureAwait(false);
            guard.Dispose();
        }
    }

    /// <summary>Thaws and deletes what this image holds. Safe to call more than once.</summary>
    public async ValueTask ReleaseAsync()
    {
        await _releaseLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_released) return;
            _released = true;
            _expired.CancelAfter(Timeout.InfiniteTimeSpan);
            await ThawAsync().ConfigureAwait(false);
            if (_cloneToDelete is not null)
            {
                try { File.Delete(_cloneToDelete); } catch (IOException) { }
                _cloneToDelete = null;
            }
        }
        finally { _releaseLock.Release(); }
    }

    public async ValueTask DisposeAsync()
    {
        await ReleaseAsync().ConfigureAwait(false);
        _expired.Dispose();
    }
}
