using System.CommandLine;
using Offhost.Core.Errors;

namespace Offhost.Cli;

/// <summary>Runs the parsed command and turns failures into one clear line on stderr and an exit code.</summary>
internal static class CliRunner
{
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        try
        {
            return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("offhost: cancelled");
            return ExitCodes.Cancelled;
        }
        catch (Agent.FrozenImages.QuiesceTimeoutException e)
        {
            await Console.Error.WriteLineAsync($"offhost: quiesce timed out: {e.Message}; nothing was backed up");
            return ExitCodes.QuiesceTimeout;
        }
        catch (UserFacingException e)
        {
            await Console.Error.WriteLineAsync($"offhost: {e.Message}");
            return e.ExitCode;
        }
        catch (Core.Devices.EndOfMediumException e)
        {
            await Console.Error.WriteLineAsync($"offhost: {e.Message}");
            return ExitCodes.EndOfMedium;
        }
        catch (CorruptStructureException e)
        {
            await Console.Error.WriteLineAsync($"offhost: damaged {e.Message}");
            return ExitCodes.Failure;
        }
        catch (IOException e)
        {
            await Console.Error.WriteLineAsync($"offhost: I/O error: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (Exception e)
        {
            // A defect, not a user error: say so plainly and keep the trace for the bug report.
            await Console.Error.WriteLineAsync($"offhost: internal error: {e}");
            return ExitCodes.Failure;
        }
    }
}
