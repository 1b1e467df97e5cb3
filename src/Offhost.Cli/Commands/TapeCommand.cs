using System.CommandLine;
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

    /// <summary>Parses a size such as <c>10G</c>, <c>512M</c>, <c>1T</c>, <c>4096</c>: K/M/G/T (optionally KiB…) are powers of 1024.</summary>
    public static long ParseSizeBytes(string text, string optionName)
    {
        try
        {
            long value = Output.Units.ParseBytes(text);
            if (value > 0) return value;
        }
        catch (FormatException) { }
        catch (OverflowException) { throw new UserFacingException($"{optionName}: '{text}' is too large", ExitCodes.Usage); }
        throw new UserFacingException($"{optionName}: '{text}' is not a size (examples: 10G, 512M, 4096)", ExitCodes.Usage);
    }
}
