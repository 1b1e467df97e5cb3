namespace Offhost.Agent.FrozenImages;

/// <summary>
/// How long the source must see no writes before the snapshot (<see cref="InactivityWindow"/>, default 3 s) and how long
/// to wait for such a window (<see cref="Timeout"/>, default 80 s) before the transfer fails. Polls every
/// <see cref="PollInterval"/> (default 200 ms).
/// </summary>
public sealed record QuiesceOptions
{
    public TimeSpan InactivityWindow { get; init; } = TimeSpan.FromSeconds(3);
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(80);
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    public static QuiesceOptions Default { get; } = new();

    /// <summary>No waiting: snapshot at once (the caller knows the source is idle, or accepts a crash-consistent image).</summary>
    public static QuiesceOptions Disabled { get; } = new() { InactivityWindow = TimeSpan.Zero };

    public bool Enabled => InactivityWindow > TimeSpan.Zero;

    internal void Validate()
    {
        if (InactivityWindow < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(InactivityWindow), InactivityWindow, "must not be negative");
        if (Enabled && Timeout < InactivityWindow)
            throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, $"must be at least the inactivity window ({InactivityWindow})");
        if (PollInterval <= TimeSpan.Zero || PollInterval > TimeSpan.FromSeconds(5))
            throw new ArgumentOutOfRangeException(nameof(PollInterval), PollInterval, "must be in (0, 5 s]");
    }
}
