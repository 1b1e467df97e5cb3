using System.Diagnostics;
using System.Text;

namespace Offhost.Testing;

/// <summary>Runs the real tools of the field (mkntfs, ntfs-3g, mkfs.ext4, debugfs, tar, tgtadm …) from tests.</summary>
public static class Tool
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs <paramref name="file"/> and returns its output; throws with both streams if it fails.</summary>
    public static string Run(string file, params string[] args) => RunChecked(file, args, stdin: null);

    public static string RunChecked(string file, IEnumerable<string> args, string? stdin, string? workingDirectory = null)
    {
        var r = TryRun(file, args, stdin, workingDirectory);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {r.ExitCode}\nstdout: {r.Stdout}\nstderr: {r.Stderr}");
        return r.Stdout;
    }

    public static Result TryRun(string file, IEnumerable<string> args, string? stdin = null, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.Append(e.Data).Append('\n'); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.Append(e.Data).Append('\n'); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (stdin is not null) { p.StandardInput.Write(stdin); p.StandardInput.Close(); }
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(10)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in time");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs a shell script with bash -e; for fixture recipes that are clearer as shell.</summary>
    public static string Bash(string script) => RunChecked("/bin/bash", ["-euo", "pipefail", "-c", script], stdin: null);

    public static bool Exists(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/sbin"])
            .Any(d => File.Exists(Path.Combine(d, name)));
}
