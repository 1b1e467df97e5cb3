namespace Offhost.Iscsi.Login;

/// <summary>
/// CHAP names and secrets. <see cref="TargetSecret"/> set = mutual CHAP: the initiator also challenges the
/// target and checks its answer. Secrets are bytes (UTF-8 of what the operator typed) and are never printed:
/// <see cref="ToString"/> redacts them.
/// </summary>
public sealed record ChapCredentials(string UserName, byte[] Secret)
{
    /// <summary>Secret the target must prove it knows (mutual CHAP); null for one-way CHAP.</summary>
    public byte[]? TargetSecret { get; init; }

    /// <summary>Name the target must present in its CHAP_N (mutual CHAP); null accepts any name.</summary>
    public string? TargetUserName { get; init; }

    public bool IsMutual => TargetSecret is not null;

    public override string ToString() => $"CHAP user {UserName}{(IsMutual ? " (mutual)" : "")}, secret redacted";
}
