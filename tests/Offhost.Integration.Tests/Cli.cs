using Offhost.Testing;

namespace Offhost.Integration.Tests;

/// <summary>Runs the built <c>offhost</c> CLI as a user would.</summary>
/// <remarks>By default the JIT build next to the tests (<c>dotnet offhost.dll</c>). With <c>OFFHOST_CLI</c> set to an
/// executable (e.g. the NativeAOT binary <c>artifacts/publish/offhost/offhost</c> that <c>./offhost</c> publishes),
/// every test runs that instead, so the whole suite checks a published build:
/// <c>OFFHOST_CLI=$PWD/artifacts/publish/offhost/offhost dotnet test --project tests/Offhost.Integration.Tests -c Release</c>.</remarks>
public static class Cli
{
    static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "offhost.dll");

    /// <summary>The executable under test: <c>OFFHOST_CLI</c> when set, else null (run the dll with dotnet).</summary>
    static readonly string? Executable = Environment.GetEnvironmentVariable("OFFHOST_CLI") is { Length: > 0 } e ? Path.GetFullPath(e) : null;

    /// <summary>The program and leading arguments that start the CLI.</summary>
    static string[] Launcher => Executable is { } exe ? [exe] : ["dotnet", Dll];

    public static Tool.Result Run(params string[] args) =>
        Tool.TryRun(Launcher[0], [.. Launcher[1..], .. args], timeout: TimeSpan.FromMinutes(20));

    /// <summary>Runs with extra environment variables (secrets stay out of the argument list, as users are told to do).</summary>
    public static Tool.Result RunWith(IReadOnlyDictionary<string, string> env, params string[] args) =>
        Tool.TryRun("env", [.. env.Select(kv => $"{kv.Key}={kv.Value}"), .. Launcher, .. args], timeout: TimeSpan.FromMinutes(20));

    public static string RunOkWith(IReadOnlyDictionary<string, string> env, params string[] args)
    {
        var r = RunWith(env, args);
        if (r.ExitCode != 0) throw new InvalidOperationException($"offhost {string.Join(' ', args)} exited {r.ExitCode}\n{r.Stderr}");
        return r.Stdout;
    }

    /// <summary>A start description of the CLI with <paramref name="args"/>, output redirected, for tests that watch or
    /// signal the running process.</summary>
    public static System.Diagnostics.ProcessStartInfo StartInfo(params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(Launcher[0]) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in Launcher[1..].Concat(args)) psi.ArgumentList.Add(a);
        return psi;
    }

    /// <summary>The path of the CLI, for shell pipelines in tests.</summary>
    public static string Command => Executable is { } exe ? $"'{exe}'" : $"dotnet '{Dll}'";

    public static string RunOk(params string[] args)
    {
        var r = Run(args);
        if (r.ExitCode != 0) throw new InvalidOperationException($"offhost {string.Join(' ', args)} exited {r.ExitCode}\n{r.Stderr}");
        return r.Stdout;
    }

    /// <summary>The repository root, for scripts under scripts/.</summary>
    public static string RepoRoot
    {
        get
        {
            var d = new DirectoryInfo(AppContext.BaseDirectory);
            while (d is not null && !File.Exists(Path.Combine(d.FullName, "Offhost.slnx"))) d = d.Parent;
            return d?.FullName ?? throw new InvalidOperationException("repository root not found");
        }
    }
}
