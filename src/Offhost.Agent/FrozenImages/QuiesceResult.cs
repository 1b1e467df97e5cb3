namespace Offhost.Agent.FrozenImages;

/// <summary>Outcome of a successful wait for write inactivity: how long it took and how many writes were seen meanwhile.</summary>
public sealed record QuiesceResult(TimeSpan Waited, long WritesSeen, DateTimeOffset? LastWriteAt);
