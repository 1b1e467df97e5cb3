namespace Offhost.Agent.FrozenImages;

/// <summary>
/// Watches something for writes. <see cref="Sample"/> returns a counter value; an unchanged <see cref="WriteSample.Detail"/>
/// means no data was written in between, and the difference of <see cref="WriteSample.Writes"/> estimates how many
/// writes were. Implementations are cheap to sample (one small read, at most one syncfs).
/// </summary>
public interface IWriteActivityProbe
{
    /// <summary>What is watched, for messages (<c>/dev/loop3 (writes in /sys/dev/block/7:3/stat)</c>).</summary>
    string Description { get; }

    WriteSample Sample();
}

/// <summary>A write counter value: <see cref="Writes"/> completed writes (or observed changes) for reporting, and
/// <see cref="Detail"/>, the change signal: sectors written, or a hash of size and times. Cache flushes count as
/// writes of zero sectors, so they do not break a quiet window.</summary>
public readonly record struct WriteSample(long Writes, long Detail);
