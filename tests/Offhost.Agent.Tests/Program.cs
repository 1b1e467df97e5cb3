namespace Offhost.Agent.Tests;

static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == FreezingChild.Verb) return FreezingChild.RunAsync(args[1..]).GetAwaiter().GetResult();
        if (args.Any(a => a is "--server" or "--internal-msbuild-node"))
            return Xunit.MicrosoftTestingPlatform.TestPlatformTestFramework.RunAsync(args, SelfRegisteredExtensions.AddSelfRegisteredExtensions).GetAwaiter().GetResult();
        return Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args).GetAwaiter().GetResult();
    }
}
