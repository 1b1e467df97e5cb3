namespace Offhost.Agent.FrozenImages;

/// <summary>
/// Watches something for writes. <see cref="Sample"/> returns a counter value; two equal samples mean no write happened
/// in between, and the difference estimates how many writes did. Implementations are cheap to sample (one small read).
/// </summary>
public interface IWriteActivityProbe
{
    /// <summary>What is watched, for messages (<c>/dev/loop3 (writes in /sys/dev/block/7:3/stat)</c>).</summary>
    string Description { get; }

    WriteSample Sample();
}

/// <summary>A write counter value: <see cref="Writes"/> completed writes (or observed changes), plus a second component
/// (sectors written, or a hash of size and times) that catches changes the first misses.</summary>
public readonly record struct WriteSample(long Writes, long Detail);
