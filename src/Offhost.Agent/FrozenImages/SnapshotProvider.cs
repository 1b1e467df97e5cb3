namespace Offhost.Agent.FrozenImages;

/// <summary>How the frozen image is made. See docs/frozen-image.md for the order <see cref="Auto"/> tries.</summary>
public enum SnapshotProvider
{
    /// <summary>Reflink if the image's file system can clone, else none for an unmounted source, else freeze.</summary>
    Auto = 0,
    /// <summary>FICLONE copy of the volume image (XFS, btrfs); mounted file systems on it are frozen around the clone only.</summary>
    Reflink = 1,
    /// <summary>No snapshot: the mounted file system stays frozen until the image is released.</summary>
    Freeze = 2,
    /// <summary>An offline image or unmounted device, static already.</summary>
    None = 3,
}
