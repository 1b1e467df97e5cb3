using System.Diagnostics;

namespace Offhost.Agent.FrozenImages;

/// <summary>
/// Waits until none of the probes has changed for the inactivity window, polling them; fails with
/// <see cref="QuiesceTimeoutException"/> when no such window comes before the timeout. Since the last write before the
/// first sample is unknown, a full window of observation is always needed.
/// </summary>
public static class Quiescer
{
    public static async Task<QuiesceResult> WaitForInactivityAsync(IReadOnlyList<IWriteActivityProbe> probes, QuiesceOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!options.Enabled || probes.Count == 0) return new QuiesceResult(TimeSpan.Zero, 0, null);

        var clock = Stopwatch.StartNew();
        var last = probes.Select(p => p.Sample()).ToArray();
        TimeSpan quietSince = TimeSpan.Zero;
        long writes = 0;
        DateTimeOffset? lastWriteAt = null;
        while (true)
        {
            TimeSpan now = clock.Elapsed;
            if (now - quietSince >= options.InactivityWindow) return new QuiesceResult(now, writes, lastWriteAt);
            if (now >= options.Timeout)
                throw new QuiesceTimeoutException(string.Join(", ", probes.Select(p => p.Description)), options.InactivityWindow, now, writes, lastWriteAt);
            var wait = Min(options.PollInterval, options.Timeout - now, options.InactivityWindow - (now - quietSince));
            await Task.Delay(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait, cancellationToken).ConfigureAwait(false);
            for (int i = 0; i < probes.Count; i++)
            {
                var s = probes[i].Sample();
                if (s.Detail == last[i].Detail) continue;
                writes += Math.Max(1, s.Writes - last[i].Writes);
                last[i] = s;
                quietSince = clock.Elapsed;
                lastWriteAt = DateTimeOffset.UtcNow;
            }
        }
    }

    static TimeSpan Min(TimeSpan a, TimeSpan b, TimeSpan c) => a < b ? (a < c ? a : c) : (b < c ? b : c);
}
