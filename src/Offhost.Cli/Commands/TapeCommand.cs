using System.CommandLine;
using System.Globalization;
using Offhost.Core.Errors;

namespace Offhost.Cli.Commands;

/// <summary><c>offhost tape new|ls|cat</c>: virtual tapes (SIMH .tap images).</summary>
internal static class TapeCommand
{
    public static Command Create() => new("tape", "Create and inspect virtual tapes (SIMH .tap images with an Offhost volume label)")
    {
        TapeNewCommand.Create(),
        TapeLsCommand.Create(),
        TapeCatCommand.Create(),
    };

    /// <summary>
    /// Runs a tape verb's body and turns failures into one line on stderr and an exit code, the same mapping as
    /// CliRunner: System.CommandLine's invocation pipeline otherwise catches action exceptions itself and prints
    /// a stack trace.
    /// </summary>
    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("offhost: cancelled");
            return ExitCodes.Cancelled;
        }
        catch (UserFacingException e)
        {
            await Console.Error.WriteLineAsync($"offhost: {e.Message}");
            return e.ExitCode;
        }
        catch (CorruptStructureException e)
        {
            await Console.Error.WriteLineAsync($"offhost: damaged {e.Message}");
            return ExitCodes.Failure;
        }
        catch (Core.Devices.EndOfMediumException e)
        {
            await Console.Error.WriteLineAsync($"offhost: {e.Message}");
            return ExitCodes.EndOfMedium;
        }
        catch (IOException e)
        {
            await Console.Error.WriteLineAsync($"offhost: I/O error: {e.Message}");
            return ExitCodes.Failure;
        }
    }

    /// <summary>Parses a size such as <c>10G</c>, <c>512M</c>, <c>1T</c>, <c>4096</c>: K/M/G/T (optionally KiB…) are powers of 1024.</summary>
    public static long ParseSizeBytes(string text, string optionName)
    {
        string t = text.Trim();
        long multiplier = 1;
        string[] suffixes = ["K", "M", "G", "T"];
        string upper = t.ToUpperInvariant();
        if (upper.EndsWith("IB", StringComparison.Ordinal)) upper = upper[..^2];
        else if (upper.EndsWith('B')) upper = upper[..^1];
        for (int i = 0; i < suffixes.Length; i++)
        {
            if (upper.EndsWith(suffixes[i], StringComparison.Ordinal))
            {
                multiplier = 1L << (10 * (i + 1));
                upper = upper[..^1];
                break;
            }
        }
        if (!long.TryParse(upper, NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value <= 0)
            throw new UserFacingException($"{optionName}: '{text}' is not a size (examples: 10G, 512M, 4096)", ExitCodes.Usage);
        try { return checked(value * multiplier); }
        catch (OverflowException) { throw new UserFacingException($"{optionName}: '{text}' is too large", ExitCodes.Usage); }
    }
}
