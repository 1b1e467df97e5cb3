using System.Security.Cryptography;
using System.Text;

namespace Offhost.Scsi.Identification;

/// <summary>
/// NAA designators (SPC-4 7.8.6.6) for logical units this product exposes or registers with its copy manager. An
/// IEEE Registered Extended (NAA 6) designator is 16 bytes: 4-bit NAA (6), 24-bit IEEE company id, 36-bit vendor-specific
/// identifier, 64-bit extension. Derived designators fill the 124 bits after the NAA nibble from a SHA-256 of a stable
/// device identity, so the same device gets the same designator on every run and host. They are identifiers for the
/// copy manager's registry, not registered company ids. Pure; thread-safe.
/// </summary>
public static class NaaDesignator
{
    public const int Naa6LengthBytes = 16;

    /// <summary>The NAA 6 designator derived from <paramref name="identity"/> (any stable bytes naming the device).</summary>
    public static byte[] Naa6FromIdentity(ReadOnlySpan<byte> identity)
    {
        Span<byte> hash = stackalloc byte[32];
        byte[] prefixed = [.. "offhost-naa6\0"u8, .. identity];
        SHA256.HashData(prefixed, hash);
        var naa = hash[..Naa6LengthBytes].ToArray();
        naa[0] = (byte)(0x60 | (naa[0] & 0x0F));
        return naa;
    }

    public static byte[] Naa6FromIdentity(string identity) => Naa6FromIdentity(Encoding.UTF8.GetBytes(identity));

    /// <summary>Parses 32 hex digits (optionally prefixed "naa.") as a 16-byte NAA 6 designator; null when it is not one.</summary>
    public static byte[]? TryParse(string text)
    {
        text = text.Trim();
        if (text.StartsWith("naa.", StringComparison.OrdinalIgnoreCase)) text = text[4..];
        if (text.Length != 2 * Naa6LengthBytes) return null;
        try
        {
            var b = Convert.FromHexString(text);
            return (b[0] >> 4) == 6 ? b : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>"naa." and the designator in upper-case hex, the form used as a device id.</summary>
    public static string ToDeviceId(ReadOnlySpan<byte> naa) => "naa." + Convert.ToHexString(naa);
}
