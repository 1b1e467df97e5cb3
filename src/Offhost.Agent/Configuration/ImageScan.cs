using Offhost.Agent.FrozenImages;
using Offhost.Core.Mapping;
using Offhost.Io.Block;
using Offhost.Io.FileSystems;
using Offhost.Mapping;

namespace Offhost.Agent.Configuration;

/// <summary>One item of an <see cref="ImageScan"/>: a volume begins, an entry, or a volume ends.</summary>
public abstract record ScanItem(int Volume);

/// <summary>Volume <paramref name="Volume"/> (1-based) begins; <paramref name="Mapper"/> is open on the snapshot.</summary>
public sealed record VolumeStart(int Volume, IVolumeMapper Mapper, long DeviceSizeBytes) : ScanItem(Volume);

public sealed record EntryItem(int Volume, MapEntry Entry, UInt128 Fingerprint) : ScanItem(Volume);

/// <summary>Volume <paramref name="Volume"/> is complete; its mapper may now be asked for allocated ranges.</summary>
public sealed record VolumeEnd(int Volume, IVolumeMapper Mapper) : ScanItem(Volume);

/// <summary>
/// One pass over a frozen image: maps every volume of the snapshot and fingerprints it, yielding the map as it goes.
/// <see cref="State"/> is available once the pass is complete. Reads only file-system metadata, never file data. Before
/// reading, a file system that is mounted read-write and not frozen by the image is flushed (sync, then a FIFREEZE and
/// FITHAW under the watchdog, which also checkpoints an ext4 journal), so the device shows its current metadata.
/// Not thread-safe; one scan per pass.
/// </summary>
public sealed class ImageScan
{
    readonly FrozenImage _image;
    ConfigurationState? _state;

    public ImageScan(FrozenImage image) => _image = image ?? throw new ArgumentNullException(nameof(image));

    public ConfigurationState State => _state ?? throw new InvalidOperationException("the scan has not completed");

    /// <summary>Runs the pass and discards the items; returns the state.</summary>
    public static async Task<ConfigurationState> ComputeAsync(FrozenImage image, CancellationToken cancellationToken)
    {
        var scan = new ImageScan(image);
        await scan.FlushLiveMountsAsync(cancellationToken).ConfigureAwait(false);
        foreach (var _ in scan.Items(cancellationToken)) { }
        return scan.State;
    }

    /// <summary>Flushes live read-write mounts of the snapshot's device that the image does not hold frozen.</summary>
    public async Task FlushLiveMountsAsync(CancellationToken cancellationToken)
    {
        if (_image.IsReleased) throw new InvalidOperationException($"frozen image {_image.Id} was released");
        if (_image.FrozenMountPoints.Count > 0 && !_image.Expired.IsCancellationRequested) return;
        var live = FrozenImageTarget.Resolve(_image.SnapshotPath).WritableMountPoints;
        if (live.Count == 0) return;
        var guard = await FreezeGuard.StartAsync(live, TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var mp in live)
            {
                FileSystemFreeze.Sync(mp);
                FileSystemFreeze.Freeze(mp);
                FileSystemFreeze.Thaw(mp);
            }
        }
        catch
        {
            await guard.ThawNowAsync().ConfigureAwait(false);
            guard.Dispose();
            throw;
        }
        await guard.ReleaseAsync().ConfigureAwait(false);
        guard.Dispose();
    }

    /// <summary>The pass itself. Call <see cref="FlushLiveMountsAsync"/> first.</summary>
    public IEnumerable<ScanItem> Items(CancellationToken cancellationToken)
    {
        if (_image.IsReleased) throw new InvalidOperationException($"frozen image {_image.Id} was released");
        var builder = new ConfigurationBuilder(SnapshotState.Describe(_image));
        using var source = new FileBlockSource(_image.SnapshotPath);
        var mappers = VolumeOpener.Open(source);
        for (int i = 0; i < mappers.Count; i++)
        {
            int volume = i + 1;
            builder.AddVolume(mappers[i].Volume);
            yield return new VolumeStart(volume, mappers[i], source.LengthBytes);
            foreach (var e in mappers[i].Entries(cancellationToken))
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return new EntryItem(volume, e, builder.AddEntry(e));
            }
            yield return new VolumeEnd(volume, mappers[i]);
        }
        _state = builder.Build();
    }
}
