namespace Offhost.Iscsi;

/// <summary>
/// A PDU or text segment received from (or produced for) the wire breaks RFC 7143: a bad length, opcode,
/// digest, key or an exchange the state machine does not allow. The connection cannot be trusted afterwards
/// (ErrorRecoveryLevel 0), so callers drop it. <see cref="StreamOffset"/> is the byte offset of the offending
/// PDU in the connection's receive stream when known, otherwise -1.
/// </summary>
public class IscsiProtocolException : IOException
{
    public IscsiProtocolException(string message, long streamOffset = -1)
        : base(streamOffset >= 0 ? $"iSCSI protocol error at receive-stream byte {streamOffset}: {message}" : $"iSCSI protocol error: {message}")
        => StreamOffset = streamOffset;

    public IscsiProtocolException(string message, Exception inner)
        : base($"iSCSI protocol error: {message}", inner) => StreamOffset = -1;

    public long StreamOffset { get; }
}
