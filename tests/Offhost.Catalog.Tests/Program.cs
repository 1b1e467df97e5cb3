namespace Offhost.Catalog.Tests;

static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == ChildWriter.Verb) return ChildWriter.Run(args[1..]);
        if (args.Any(a => a is "--server" or "--internal-msbuild-node"))
            return Xunit.MicrosoftTestingPlatform.TestPlatformTestFramework.RunAsync(args, SelfRegisteredExtensions.AddSelfRegisteredExtensions).GetAwaiter().GetResult();
        return Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args).GetAwaiter().GetResult();
    }
}
