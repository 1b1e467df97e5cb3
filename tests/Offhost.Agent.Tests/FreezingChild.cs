using Offhost.Agent.FrozenImages;

namespace Offhost.Agent.Tests;

/// <summary>Runs in a child process: freezes a mount point with provider freeze, writes a marker file, then waits to be killed.</summary>
static class FreezingChild
{
    public const string Verb = "agent-child-freeze";

    public static async Task<int> RunAsync(string[] args)
    {
        string mountPoint = args[0];
        string marker = args[1];
        var image = await new FrozenImageService().CreateAsync(mountPoint,
            new FrozenImageOptions { Provider = SnapshotProvider.Freeze, Quiesce = QuiesceOptions.Disabled }, CancellationToken.None);
        await File.WriteAllTextAsync(marker, image.SnapshotPath);
        await Task.Delay(Timeout.Infinite);
        return 0;
    }
}
