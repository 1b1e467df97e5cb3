namespace Offhost.Iscsi.Login;

/// <summary>The target refused the login (Status-Class non-zero), or authentication of the target failed.
/// The message says what the status means (RFC 7143 §11.13.5) without ever containing a secret.</summary>
public class IscsiLoginException : IOException
{
    public IscsiLoginException(byte statusClass, byte statusDetail, string context)
        : base($"{context}: login rejected by the target: {Describe(statusClass, statusDetail)} (status {statusClass:X2}h/{statusDetail:X2}h)")
    {
        StatusClass = statusClass;
        StatusDetail = statusDetail;
    }

    public IscsiLoginException(string message) : base(message) { }

    public byte StatusClass { get; }
    public byte StatusDetail { get; }

    public bool IsAuthenticationFailure => StatusClass == 2 && StatusDetail is 1 or 2;
    public bool IsTargetNotFound => StatusClass == 2 && StatusDetail is 3 or 4;

    public static string Describe(byte statusClass, byte statusDetail) => (statusClass, statusDetail) switch
    {
        (0, 0) => "success",
        (1, 1) => "target moved temporarily",
        (1, 2) => "target moved permanently",
        (2, 0) => "initiator error",
        (2, 1) => "authentication failed (wrong CHAP user or secret, or CHAP required)",
        (2, 2) => "authorization failed (this initiator may not access the target)",
        (2, 3) => "target not found",
        (2, 4) => "target removed",
        (2, 5) => "unsupported iSCSI version",
        (2, 6) => "too many connections",
        (2, 7) => "missing parameter",
        (2, 8) => "cannot include connection in session",
        (2, 9) => "session type not supported",
        (2, 10) => "session does not exist",
        (2, 11) => "invalid request during login",
        (3, 0) => "target error",
        (3, 1) => "service unavailable",
        (3, 2) => "out of resources",
        _ => "unknown status",
    };
}
