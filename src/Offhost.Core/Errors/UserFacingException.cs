namespace Offhost.Core.Errors;

/// <summary>A failure that is the user's to fix (bad arguments, missing device, wrong medium). The CLI prints
/// its message without a stack trace and exits with <see cref="ExitCode"/>.</summary>
public class UserFacingException : Exception
{
    public UserFacingException(string message, int exitCode = 1) : base(message) => ExitCode = exitCode;
    public UserFacingException(string message, Exception inner, int exitCode = 1) : base(message, inner) => ExitCode = exitCode;

    public int ExitCode { get; }
}
