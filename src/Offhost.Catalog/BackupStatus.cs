namespace Offhost.Catalog;

/// <summary>Life cycle of a backup. Only <see cref="Catalog.MarkGood"/> leads to <see cref="Good"/>; a backup whose
/// process died stays <see cref="Running"/> until the next <see cref="Catalog.Open"/> turns it into <see cref="Failed"/>.</summary>
public enum BackupStatus
{
    Running = 0,
    Good = 1,
    Failed = 2,
    /// <summary>Ended on purpose before all data was written (cancelled, medium full with no next medium).</summary>
    Incomplete = 3,
}
