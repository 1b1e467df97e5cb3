using Offhost.Core.Devices;
using Offhost.Formats.Tape.Index;

namespace Offhost.Server.Restore;

/// <summary>What to restore to a directory: members of one backup's archive, chosen by path patterns.</summary>
/// <param name="Tape">The tape holding the archive (read only).</param>
/// <param name="ArchiveFileNumber">Tape file number of the archive; its index is the next tape file.</param>
/// <param name="TargetDirectory">Directory the files land under; nothing is ever written outside it. Created if missing.</param>
public sealed record FileRestoreRequest(IStreamDevice Tape, long ArchiveFileNumber, string TargetDirectory)
{
    /// <summary>Path patterns (<c>*</c>, <c>**</c>, <c>?</c>, see <see cref="Catalog.GlobPattern"/>); a match on a directory selects
    /// its subtree. Empty selects everything.</summary>
    public IReadOnlyList<string> Patterns { get; init; } = [];

    /// <summary>Also restore the backup's own members (<c>.offhost/</c>: storage maps, volume remainders).</summary>
    public bool IncludeOffhostMembers { get; init; }

    /// <summary>The backup's index when the caller already has it (e.g. from <see cref="CatalogRebuild.CatalogRestoreIndex"/>);
    /// null reads it from tape file <see cref="ArchiveFileNumber"/> + 1.</summary>
    public TapeIndex? Index { get; init; }
}
