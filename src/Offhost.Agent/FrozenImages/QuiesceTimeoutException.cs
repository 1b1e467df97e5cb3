using System.Globalization;
using Offhost.Core.Errors;

namespace Offhost.Agent.FrozenImages;

/// <summary>The source never stayed idle for the inactivity window within the timeout; the transfer fails.</summary>
public sealed class QuiesceTimeoutException : UserFacingException
{
    public QuiesceTimeoutException(string source, TimeSpan window, TimeSpan waited, long writesSeen, DateTimeOffset? lastWriteAt)
        : base(string.Create(CultureInfo.InvariantCulture,
            $"{source} was never idle for {window.TotalSeconds:0.###} s within {waited.TotalSeconds:0.#} s: {writesSeen} write(s) seen, last at {(lastWriteAt is { } t ? t.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) : "never")}; stop the writers or raise the timeout"))
    {
        WatchedSource = source;
        Window = window;
        Waited = waited;
        WritesSeen = writesSeen;
        LastWriteAt = lastWriteAt;
    }

    public string WatchedSource { get; }
    public TimeSpan Window { get; }
    public TimeSpan Waited { get; }
    public long WritesSeen { get; }
    public DateTimeOffset? LastWriteAt { get; }
}
