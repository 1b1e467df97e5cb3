using Xunit;

namespace Offhost.Testing;

/// <summary>A scratch directory under artifacts/scratch (on the same disk as the repository, not tmpfs),
/// removed on dispose unless OFFHOST_KEEP_SCRATCH=1.</summary>
public sealed class Scratch : IDisposable
{
    public Scratch(string name)
    {
        string root = Environment.GetEnvironmentVariable("OFFHOST_SCRATCH")
            ?? Path.Combine(Path.GetTempPath(), "offhost-tests");
        Dir = Path.Combine(root, $"{name}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Dir);
    }

    public string Dir { get; }

    public string this[string relative] => Path.Combine(Dir, relative);

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("OFFHOST_KEEP_SCRATCH") == "1") return;
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Deterministic test data, so a failure reproduces from its seed.</summary>
public static class TestData
{
    public static byte[] Random(int seed, int length)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }
}

/// <summary>Skips (with a printed reason) tests whose environment is missing.</summary>
public static class Requires
{
    public static void Root()
    {
        if (Environment.UserName != "root" && Environment.GetEnvironmentVariable("USER") != "root")
            Assert.Skip("needs root for loop devices and mounts");
    }

    public static void Tool(string name)
    {
        if (!Testing.Tool.Exists(name)) Assert.Skip($"{name} is not installed (scripts/deps.sh installs it)");
    }
}
