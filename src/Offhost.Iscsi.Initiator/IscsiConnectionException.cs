namespace Offhost.Iscsi.Initiator;

/// <summary>The TCP connection to the target failed, was dropped, or stopped answering within a timeout. Every
/// command that was in flight on it fails with this; reads are safe to retry on a new session, writes may or may
/// not have reached the medium.</summary>
public class IscsiConnectionException : IOException
{
    public IscsiConnectionException(string message) : base(message) { }
    public IscsiConnectionException(string message, Exception inner) : base(message, inner) { }
}
