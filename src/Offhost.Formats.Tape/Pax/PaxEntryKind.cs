namespace Offhost.Formats.Tape.Pax;

/// <summary>Type of a pax archive member (ustar typeflag '0', '5', '2', '1').</summary>
public enum PaxEntryKind
{
    File,
    Directory,
    Symlink,
    /// <summary>A hard link to a member earlier in the same archive (<see cref="PaxEntry.LinkTarget"/>); no data.</summary>
    HardLink,
}
