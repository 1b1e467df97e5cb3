using Offhost.Testing;

namespace Offhost.Integration.Tests;

/// <summary>Runs the built <c>offhost</c> CLI as a user would.</summary>
public static class Cli
{
    static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "offhost.dll");

    public static Tool.Result Run(params string[] args) =>
        Tool.TryRun("dotnet", [Dll, .. args], timeout: TimeSpan.FromMinutes(20));

    /// <summary>Runs with extra environment variables (secrets stay out of the argument list, as users are told to do).</summary>
    public static Tool.Result RunWith(IReadOnlyDictionary<string, string> env, params string[] args) =>
        Tool.TryRun("env", [.. env.Select(kv => $"{kv.Key}={kv.Value}"), "dotnet", Dll, .. args], timeout: TimeSpan.FromMinutes(20));

    public static string RunOkWith(IReadOnlyDictionary<string, string> env, params string[] args)
    {
        var r = RunWith(env, args);
        if (r.ExitCode != 0) throw new InvalidOperationException($"offhost {string.Join(' ', args)} exited {r.ExitCode}\n{r.Stderr}");
        return r.Stdout;
    }

    /// <summary>The path of the CLI, for shell pipelines in tests.</summary>
    public static string Command => $"dotnet '{Dll}'";

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
