using Offhost.Agent.FrozenImages;

namespace Offhost.Agent.Tests;

public class QuiescerTests
{
    sealed class ScriptedProbe(Func<int, long> writesAtSample) : IWriteActivityProbe
    {
        int _n;
        public string Description => "scripted device";
        public WriteSample Sample() { long w = writesAtSample(_n++); return new WriteSample(w, w * 8); }
    }

    static readonly QuiesceOptions Fast = new()
    {
        InactivityWindow = TimeSpan.FromMilliseconds(300),
        Timeout = TimeSpan.FromSeconds(20),
        PollInterval = TimeSpan.FromMilliseconds(20),
    };

    [Fact]
    public async Task Idle_source_passes_after_one_window()
    {
        var r = await Quiescer.WaitForInactivityAsync([new ScriptedProbe(_ => 42)], Fast, TestContext.Current.CancellationToken);
        Assert.Equal(0, r.WritesSeen);
        Assert.Null(r.LastWriteAt);
        Assert.True(r.Waited >= Fast.InactivityWindow);
    }

    [Fact]
    public async Task Writes_that_stop_are_counted_and_waited_out()
    {
        var r = await Quiescer.WaitForInactivityAsync([new ScriptedProbe(n => Math.Min(n, 10) * 3)], Fast, TestContext.Current.CancellationToken);
        Assert.Equal(30, r.WritesSeen);
        Assert.NotNull(r.LastWriteAt);
    }

    [Fact]
    public async Task Constant_writes_time_out_with_a_clear_message()
    {
        var options = Fast with { Timeout = TimeSpan.FromSeconds(1) };
        var e = await Assert.ThrowsAsync<QuiesceTimeoutException>(() =>
            Quiescer.WaitForInactivityAsync([new ScriptedProbe(n => n)], options, TestContext.Current.CancellationToken));
        Assert.StartsWith("scripted device was never idle for 0.3 s within 1", e.Message, StringComparison.Ordinal);
        Assert.Contains("write(s) seen, last at 20", e.Message, StringComparison.Ordinal);
        Assert.True(e.WritesSeen > 0);
        Assert.NotNull(e.LastWriteAt);
    }

    [Fact]
    public async Task Disabled_quiesce_returns_at_once_without_sampling()
    {
        var r = await Quiescer.WaitForInactivityAsync([new ScriptedProbe(_ => throw new InvalidOperationException("sampled"))],
            QuiesceOptions.Disabled, TestContext.Current.CancellationToken);
        Assert.Equal(TimeSpan.Zero, r.Waited);
    }

    [Fact]
    public async Task Cancellation_stops_the_wait()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Quiescer.WaitForInactivityAsync([new ScriptedProbe(n => n)], Fast, cts.Token));
    }

    [Fact]
    public void Options_are_bounded()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FrozenImageOptions { MaxFreeze = TimeSpan.FromHours(2) }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new FrozenImageOptions { MaxFreeze = TimeSpan.Zero }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuiesceOptions { Timeout = TimeSpan.FromSeconds(1) }.Validate());
        new FrozenImageOptions().Validate();
        Assert.Equal(TimeSpan.FromSeconds(3), QuiesceOptions.Default.InactivityWindow);
        Assert.Equal(TimeSpan.FromSeconds(80), QuiesceOptions.Default.Timeout);
    }
}
