namespace Offhost.Formats.Tape.Pax;

/// <summary>Type of a pax archive member (ustar typeflag '0', '5', '2', '1', '6', '3', '4'; a socket is a '0' member
/// marked <c>SCHILY.filetype=socket</c>). The numeric values are stored in the tape index: append, never renumber.</summary>
public enum PaxEntryKind
{
    File,
    Directory,
    Symlink,
    /// <summary>A hard link to a member earlier in the same archive (<see cref="PaxEntry.LinkTarget"/>); no data.</summary>
    HardLink,
    /// <summary>A FIFO (typeflag '6'); no data.</summary>
    Fifo,
    /// <summary>A character device node (typeflag '3') with its device number; no data.</summary>
    CharDevice,
    /// <summary>A block device node (typeflag '4') with its device number; no data.</summary>
    BlockDevice,
    /// <summary>A Unix-domain socket: pax has no type for it, so a zero-size regular member with the star keyword
    /// <c>SCHILY.filetype=socket</c>.</summary>
    Socket,
}

/// <summary>Helpers over <see cref="PaxEntryKind"/>.</summary>
public static class PaxEntryKinds
{
    /// <summary>The member kind of a special file.</summary>
    public static PaxEntryKind Of(Core.Mapping.SpecialFileKind kind) => kind switch
    {
        Core.Mapping.SpecialFileKind.Fifo => PaxEntryKind.Fifo,
        Core.Mapping.SpecialFileKind.CharDevice => PaxEntryKind.CharDevice,
        Core.Mapping.SpecialFileKind.BlockDevice => PaxEntryKind.BlockDevice,
        Core.Mapping.SpecialFileKind.Socket => PaxEntryKind.Socket,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a special file kind"),
    };

    /// <summary>The special-file kind of a member kind; null for files, directories and links.</summary>
    public static Core.Mapping.SpecialFileKind? Special(PaxEntryKind kind) => kind switch
    {
        PaxEntryKind.Fifo => Core.Mapping.SpecialFileKind.Fifo,
        PaxEntryKind.CharDevice => Core.Mapping.SpecialFileKind.CharDevice,
        PaxEntryKind.BlockDevice => Core.Mapping.SpecialFileKind.BlockDevice,
        PaxEntryKind.Socket => Core.Mapping.SpecialFileKind.Socket,
        _ => null,
    };

    /// <summary>True for character and block devices, whose members carry a device number.</summary>
    public static bool HasDevice(PaxEntryKind kind) => Special(kind) is { } special && Core.Mapping.SpecialFiles.HasDevice(special);
}
