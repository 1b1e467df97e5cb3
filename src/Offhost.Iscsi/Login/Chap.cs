using System.Security.Cryptography;

namespace Offhost.Iscsi.Login;

/// <summary>
/// CHAP with MD5 (RFC 1994, algorithm 5 as used by iSCSI, RFC 7143 §12.1.3): response = MD5(identifier byte ‖
/// secret ‖ challenge). MD5 is what every target implements for iSCSI CHAP; its weakness is a protocol matter
/// (use IPsec or a trusted network), not a choice here. Stateless and thread-safe.
/// </summary>
public static class Chap
{
    /// <summary>The CHAP_A value for MD5.</summary>
    public const int Md5Algorithm = 5;

    /// <summary>RFC 1994 leaves secrets unbounded; targets cap them, and so do we before hashing.</summary>
    public const int MaxSecretBytes = 256;

    public static byte[] Response(byte identifier, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> challenge)
    {
        var input = new byte[1 + secret.Length + challenge.Length];
        input[0] = identifier;
        secret.CopyTo(input.AsSpan(1));
        challenge.CopyTo(input.AsSpan(1 + secret.Length));
#pragma warning disable CA5351 // MD5 is mandated by CHAP algorithm 5; see the type remarks.
        var hash = MD5.HashData(input);
#pragma warning restore CA5351
        CryptographicOperations.ZeroMemory(input);
        return hash;
    }
}
