using Spectre.Console;

namespace Offhost.Cli.Output;

/// <summary>Counters that copy or map workers bump from any thread; the display reads them.</summary>
public sealed class ProgressCounter
{
    long done;
    long total;

    /// <summary>Work done so far (bytes or records, per <see cref="ProgressDisplay"/> unit).</summary>
    public long Done => Interlocked.Read(ref done);

    /// <summary>Total work when known, else 0.</summary>
    public long Total { get => Interlocked.Read(ref total); set => Interlocked.Exchange(ref total, value); }

    /// <summary>What the work is doing now ("Freezing /mnt/data", "Copying"); shown instead of the description when set.</summary>
    public string? Phase { get => Volatile.Read(ref phase); set => Volatile.Write(ref phase, value); }
    string? phase;

    public void Add(long amount) => Interlocked.Add(ref done, amount);
    public void Set(long value) => Interlocked.Exchange(ref done, value);
}

/// <summary>
/// A progress bar with rate and ETA on stderr, shown only when stderr is a terminal and the output is not
/// for a script (--json). Spectre.Console's progress is not thread-safe, so workers only touch the
/// <see cref="ProgressCounter"/> and one loop here copies it to the screen every 200 ms.
/// </summary>
public static class ProgressDisplay
{
    public static bool Enabled(bool json) => !json && !Console.IsErrorRedirected
        && Environment.GetEnvironmentVariable("OFFHOST_NO_PROGRESS") is null;

    public static async Task<T> RunAsync<T>(string description, bool enabled, bool bytes, Func<ProgressCounter, Task<T>> work)
    {
        var counter = new ProgressCounter();
        if (!enabled) return await work(counter);

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        await console.Progress()
            .AutoClear(true)
            .Columns(bytes
                ? [new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn()]
                : [new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn()])
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(description, autoStart: true, maxValue: 1);
                var running = Task.Run(() => work(counter));
                while (!running.IsCompleted)
                {
                    Update(task, counter, description, bytes);
                    await Task.WhenAny(running, Task.Delay(200));
                }
                Update(task, counter, description, bytes);
                result = await running;
            });
        return result;
    }

    static void Update(ProgressTask task, ProgressCounter counter, string description, bool bytes)
    {
        long total = counter.Total, done = counter.Done;
        if (counter.Phase is { } phase) description = Markup.Escape(phase);
        task.IsIndeterminate = total <= 0;
        task.MaxValue = Math.Max(1, total > 0 ? total : done);
        task.Value = Math.Min(done, task.MaxValue);
        if (!bytes) task.Description = $"{description} [grey]{done:N0}[/]";
    }
}
