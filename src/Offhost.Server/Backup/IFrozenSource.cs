using Offhost.Core.Mapping;

namespace Offhost.Server.Backup;

/// <summary>
/// A backup source frozen at one point in time, as the backup host reaches it. Made by an
/// <see cref="IFrozenSourceProvider"/>: in this process (<see cref="LocalFrozenSources"/>) or by an agent on the
/// application host. Disposing releases it (thaws, drops the snapshot).
/// </summary>
public interface IFrozenSource : IAsyncDisposable
{
    /// <summary>The source as the user named it.</summary>
    string Target { get; }

    /// <summary>What the mover opens and reads: the snapshot clone, the frozen device, or the offline image.</summary>
    string ReadPath { get; }

    /// <summary>How the image was made: <c>reflink</c>, <c>freeze</c> or <c>none</c>.</summary>
    string Provider { get; }

    /// <summary>The point in time the image shows.</summary>
    DateTimeOffset FrozenAt { get; }

    /// <summary>Fires when the image stops holding (a freeze was thawed at its bound): data read after it may have changed.</summary>
    CancellationToken Expired { get; }

    /// <summary>The storage map when the application host made it; null when the backup host maps <see cref="ReadPath"/> itself.</summary>
    IReadOnlyList<IVolumeMapper>? Mappers { get; }

    /// <summary>Runs immediately before the copy reads the source. An image made by an agent checks its configuration ID
    /// and, when the layout changed since the map, remaps (<see cref="Mappers"/> then describe the current layout);
    /// returns one line per remap for the catalog. A local image has nothing to check.</summary>
    Task<IReadOnlyList<string>> CheckBeforeCopyAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>([]);

    /// <summary>Runs after the archive is written and before its index: throws when the image changed during the copy.</summary>
    Task CheckAfterCopyAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Makes frozen images of backup sources.</summary>
public interface IFrozenSourceProvider
{
    /// <exception cref="Core.Errors.UserFacingException">The source cannot be frozen (quiesce timed out, provider unusable).</exception>
    Task<IFrozenSource> FreezeAsync(string target, CancellationToken cancellationToken);
}
