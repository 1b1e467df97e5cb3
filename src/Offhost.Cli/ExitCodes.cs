namespace Offhost.Cli;

/// <summary>Process exit codes; documented in docs/cli.md. Never renumber: scripts depend on them.</summary>
internal static class ExitCodes
{
    /// <summary>Everything asked for was done completely.</summary>
    public const int Success = 0;
    /// <summary>The operation failed; nothing is recorded as good.</summary>
    public const int Failure = 1;
    /// <summary>Bad arguments or a source/target that cannot be opened.</summary>
    public const int Usage = 2;
    /// <summary>The operation finished, but not completely: some files could not be mapped, backed up or restored.</summary>
    public const int Incomplete = 3;
    /// <summary>Data did not match: a checksum or a comparison failed (verify).</summary>
    public const int VerifyFailed = 4;
    /// <summary>The source did not become quiet within the quiesce timeout.</summary>
    public const int QuiesceTimeout = 5;
    /// <summary>The medium filled up before the job was complete.</summary>
    public const int EndOfMedium = 6;
    /// <summary>Interrupted by Ctrl+C or SIGTERM.</summary>
    public const int Cancelled = 130;
}
