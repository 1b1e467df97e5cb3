using System.Diagnostics;
using System.Globalization;
using Offhost.Core.Errors;

namespace Offhost.Agent.FrozenImages;

/// <summary>
/// A watchdog process that thaws file systems if their freezer cannot: it is started (and armed) before the freeze,
/// reads one line from a pipe whose only writer is this process, and runs <c>fsfreeze -u</c> on every mount point when
/// the pipe reaches end-of-file (this process died, even by SIGKILL) or the deadline passes without a
/// <c>released</c> line. A thaw of a file system that is not frozen fails harmlessly (EINVAL). The watchdog ignores
/// SIGINT, SIGTERM, SIGHUP and SIGQUIT (a Ctrl-C reaches the whole process group) and SIGPIPE (its reader may be
/// gone when it reports a thaw).
/// </summary>
internal sealed class FreezeGuard : IDisposable
{
    // Passed with bash -c, so no script file has to be installed next to the program.
    const string Script = """
        trap '' INT TERM HUP QUIT PIPE
        max=$1; shift
        echo armed
        if IFS= read -r -t "$max" line && [ "$line" = released ]; then exit 0; fi
        for mp in "$@"; do
            if "$FSFREEZE" -u "$mp" 2>/dev/null; then echo "thawed $mp"; fi
        done
        """;

    readonly Process _process;
    bool _released;

    FreezeGuard(Process process, IReadOnlyList<string> mountPoints, TimeSpan deadline)
    {
        _process = process;
        MountPoints = mountPoints;
        Deadline = deadline;
    }

    public IReadOnlyList<string> MountPoints { get; }
    public TimeSpan Deadline { get; }
    public int ProcessId => _process.Id;

    /// <summary>Starts the watchdog and waits until it is armed. Throws when util-linux fsfreeze or bash is missing.</summary>
    public static async Task<FreezeGuard> StartAsync(IReadOnlyList<string> mountPoints, TimeSpan deadline, CancellationToken cancellationToken)
    {
        string fsfreeze = FindTool("fsfreeze")
            ?? throw new UserFacingException("fsfreeze (util-linux) is not installed; without it a frozen file system could stay frozen if offhost dies, so offhost does not freeze");
        string bash = FindTool("bash") ?? throw new UserFacingException("bash is not installed; it runs the freeze watchdog");
        var psi = new ProcessStartInfo(bash)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        psi.Environment["FSFREEZE"] = fsfreeze;
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(Script);
        psi.ArgumentList.Add("offhost-freeze-guard");
        psi.ArgumentList.Add(((long)Math.Ceiling(deadline.TotalSeconds)).ToString(CultureInfo.InvariantCulture));
        foreach (var mp in mountPoints) psi.ArgumentList.Add(mp);
        var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start the freeze watchdog");
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            string? line = await p.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false);
            if (line != "armed") throw new InvalidOperationException($"freeze watchdog did not arm (said '{line}')");
            return new FreezeGuard(p, mountPoints, deadline);
        }
        catch
        {
            try { p.Kill(); } catch (InvalidOperationException) { }
            p.Dispose();
            throw;
        }
    }

    /// <summary>Tells the watchdog the file systems are thawed, so it exits without touching them.</summary>
    public async Task ReleaseAsync()
    {
        if (_released) return;
        _released = true;
        try
        {
            await _process.StandardInput.WriteLineAsync("released").ConfigureAwait(false);
            await _process.StandardInput.FlushAsync().ConfigureAwait(false);
            _process.StandardInput.Close();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (IOException) { }
        catch (OperationCanceledException) { }
    }

    /// <summary>Closes the pipe without a release: the watchdog thaws every mount point now.</summary>
    public async Task ThawNowAsync()
    {
        if (_released) return;
        _released = true;
        try
        {
            _process.StandardInput.Close();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (IOException) { }
        catch (OperationCanceledException) { }
    }

    static string? FindTool(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
            .Select(d => Path.Combine(d, name))
            .FirstOrDefault(File.Exists);

    public void Dispose()
    {
        // Disposing without a release closes the pipe: the watchdog thaws. That is the safe default.
        if (!_released)
        {
            try { _process.StandardInput.Close(); } catch (IOException) { }
        }
        _process.Dispose();
    }
}
