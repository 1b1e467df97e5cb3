namespace Offhost.Server.Restore;

/// <summary>Something of one member that was not restored, or not restored as it was backed up.</summary>
/// <param name="Path">Member path in the archive.</param>
/// <param name="Reason">What happened, in words.</param>
public sealed record FileRestoreProblem(string Path, string Reason)
{
    public override string ToString() => $"{Path}: {Reason}";
}

/// <summary>The outcome of a file restore. Counts are of items written under the target directory.</summary>
/// <param name="Files">Regular files written (hard links not counted).</param>
/// <param name="Directories">Directories created or updated.</param>
/// <param name="Symlinks">Symbolic links created.</param>
/// <param name="HardLinks">Hard links created.</param>
/// <param name="Streams">Alternate data streams written as <c>user.*</c> extended attributes.</param>
/// <param name="DataBytes">Logical bytes of file data restored (holes included).</param>
/// <param name="Refused">Members not written because their names would reach outside the target directory, or similar.</param>
/// <param name="Damaged">Files or streams whose data does not match the index checksum. Such a file is kept under its name
/// with the suffix <see cref="FileRestoreJob.DamagedSuffix"/>, never under its own name.</param>
/// <param name="NotRestored">Data or metadata that could not be applied (xattrs unsupported, ownership without root, …).</param>
/// <param name="UnmatchedPatterns">Patterns that selected nothing.</param>
public sealed record FileRestoreResult(long Files, long Directories, long Symlinks, long HardLinks, long Streams, long DataBytes,
    IReadOnlyList<FileRestoreProblem> Refused, IReadOnlyList<FileRestoreProblem> Damaged, IReadOnlyList<FileRestoreProblem> NotRestored,
    IReadOnlyList<string> UnmatchedPatterns)
{
    /// <summary>FIFOs and device nodes recreated (sockets never are; they are listed in <see cref="NotRestored"/>).</summary>
    public long SpecialFiles { get; init; }

    /// <summary>True when everything selected came back exactly, metadata included.</summary>
    public bool Complete => Refused.Count == 0 && Damaged.Count == 0 && NotRestored.Count == 0 && UnmatchedPatterns.Count == 0;
}
