namespace Offhost.Iscsi.Pdu;

/// <summary>Which CRC32C digests a connection carries; negotiated at login, in force from the first PDU after it.</summary>
public readonly record struct DigestOptions(bool Header, bool Data)
{
    public static DigestOptions None => default;
}
