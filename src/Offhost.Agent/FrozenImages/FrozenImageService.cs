using System.Globalization;
using System.Security.Cryptography;
using Offhost.Core.Errors;
using Offhost.Io.FileSystems;

namespace Offhost.Agent.FrozenImages;

/// <summary>
/// Makes frozen images of backup sources: waits for write inactivity, flushes, freezes (FIFREEZE, guarded by a
/// watchdog process), takes the snapshot and thaws. Stateless and thread-safe; each image is released on its own.
/// </summary>
public sealed class FrozenImageService
{
    /// <summary>Extra time the watchdog process gives the in-process expiry before it thaws on its own.</summary>
    static readonly TimeSpan GuardSlack = TimeSpan.FromSeconds(5);

    public async Task<FrozenImage> CreateAsync(string target, FrozenImageOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var t = FrozenImageTarget.Resolve(target);
        var provider = Choose(t, options);

        var quiesce = await Quiescer.WaitForInactivityAsync(t.Probes(), options.Quiesce, cancellationToken).ConfigureAwait(false);
        string id = NewId();
        return provider switch
        {
            SnapshotProvider.None => new FrozenImage(id, t.SourcePath, OfflineReadPath(t), SnapshotProvider.None, DateTimeOffset.UtcNow, quiesce),
            SnapshotProvider.Freeze => await FreezeAsync(t, id, quiesce, options, cancellationToken).ConfigureAwait(false),
            SnapshotProvider.Reflink => await ReflinkAsync(t, id, quiesce, options, cancellationToken).ConfigureAwait(false),
            _ => throw new ArgumentOutOfRangeException(nameof(options), provider, "unknown provider"),
        };
    }

    public ValueTask ReleaseAsync(FrozenImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return image.ReleaseAsync();
    }

    /// <summary>The provider <see cref="SnapshotProvider.Auto"/> picks, or a check that the one asked for can work.</summary>
    internal static SnapshotProvider Choose(FrozenImageTarget t, FrozenImageOptions options)
    {
        var writable = t.WritableMountPoints;
        switch (options.Provider)
        {
            case SnapshotProvider.Auto:
                if (t.ImagePath is not null && Reflink.IsSupported(CloneDirectory(t, options))) return SnapshotProvider.Reflink;
                return writable.Count == 0 ? SnapshotProvider.None : SnapshotProvider.Freeze;
            case SnapshotProvider.Reflink:
                if (t.ImagePath is null)
                    throw new UserFacingException($"{t.SourcePath}: reflink needs a volume image file, and this source is not one (nor a loop device over one)");
                return SnapshotProvider.Reflink;
            case SnapshotProvider.Freeze:
                if (writable.Count == 0)
                    throw new UserFacingException($"{t.SourcePath}: not mounted read-write anywhere, so there is nothing to freeze; use provider none");
                return SnapshotProvider.Freeze;
            case SnapshotProvider.None:
                if (writable.Count > 0)
                    throw new UserFacingException($"{t.SourcePath}: mounted read-write at {string.Join(", ", writable)}; provider none needs an offline source (use freeze or reflink)");
                return SnapshotProvider.None;
            default:
                throw new ArgumentOutOfRangeException(nameof(options), options.Provider, "unknown provider");
        }
    }

    static async Task<FrozenImage> FreezeAsync(FrozenImageTarget t, string id, QuiesceResult quiesce, FrozenImageOptions options, CancellationToken ct)
    {
        var mountPoints = t.WritableMountPoints;
        var guard = await FreezeAndGuardAsync(mountPoints, options.MaxFreeze + GuardSlack, ct).ConfigureAwait(false);
        var image = new FrozenImage(id, t.SourcePath, t.DevicePath ?? t.ImagePath!, SnapshotProvider.Freeze, DateTimeOffset.UtcNow, quiesce);
        image.HoldFreeze(guard, mountPoints, options.MaxFreeze);
        try
        {
            if (options.WhileFrozen is { } hook) await hook(image, ct).ConfigureAwait(false);
            return image;
        }
        catch
        {
            await image.ReleaseAsync().ConfigureAwait(false);
            throw;
        }
    }

    static async Task<FrozenImage> ReflinkAsync(FrozenImageTarget t, string id, QuiesceResult quiesce, FrozenImageOptions options, CancellationToken ct)
    {
        string image = t.ImagePath!;
        string clone = Path.Combine(CloneDirectory(t, options), $"{Path.GetFileName(image)}.offhost-{id}.snap");
        var mountPoints = t.WritableMountPoints;
        FrozenImage? result = null;
        // Mounted file systems on the image are frozen only for the instant of the clone, so the clone is consistent.
        FrozenImage? holder = null;
        if (mountPoints.Count > 0)
        {
            var guard = await FreezeAndGuardAsync(mountPoints, options.MaxFreeze + GuardSlack, ct).ConfigureAwait(false);
            holder = new FrozenImage(id, t.SourcePath, clone, SnapshotProvider.Reflink, DateTimeOffset.UtcNow, quiesce);
            holder.HoldFreeze(guard, mountPoints, options.MaxFreeze);
        }
        try
        {
            DateTimeOffset at = DateTimeOffset.UtcNow;
            if (!Reflink.TryClone(image, clone))
                throw new UserFacingException($"{image}: its file system cannot clone files (FICLONE); use provider freeze or none");
            result = new FrozenImage(id, t.SourcePath, clone, SnapshotProvider.Reflink, at, quiesce);
            result.OwnClone(clone);
            if (options.WhileFrozen is { } hook) await hook(result, ct).ConfigureAwait(false);
            return result;
        }
        catch
        {
            if (result is not null) await result.ReleaseAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            if (holder is not null) await holder.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Arms the watchdog first, then syncs and freezes each mount point; on any failure thaws what was frozen.</summary>
    static async Task<FreezeGuard> FreezeAndGuardAsync(IReadOnlyList<string> mountPoints, TimeSpan deadline, CancellationToken ct)
    {
        var guard = await FreezeGuard.StartAsync(mountPoints, deadline, ct).ConfigureAwait(false);
        var frozen = new List<string>();
        try
        {
            foreach (string mp in mountPoints)
            {
                ct.ThrowIfCancellationRequested();
                FileSystemFreeze.Sync(mp);
                FileSystemFreeze.Freeze(mp);
                frozen.Add(mp);
            }
            return guard;
        }
        catch
        {
            foreach (string mp in frozen)
            {
                try { FileSystemFreeze.Thaw(mp); } catch (FileSystemCallException) { }
            }
            await guard.ReleaseAsync().ConfigureAwait(false);
            guard.Dispose();
            throw;
        }
    }

    /// <summary>An offline source is read as given (image file or device); a directory (read-only mount) through its device.</summary>
    static string OfflineReadPath(FrozenImageTarget t) =>
        t.SourcePath == t.ImagePath || t.SourcePath == t.DevicePath ? t.SourcePath : t.DevicePath ?? t.ImagePath!;

    static string CloneDirectory(FrozenImageTarget t, FrozenImageOptions options) =>
        options.SnapshotDirectory ?? Path.GetDirectoryName(t.ImagePath!)!;

    static string NewId() =>
        DateTimeOffset.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
}
