namespace Offhost.Scsi.Commands;

/// <summary>One designation descriptor of VPD page 83h (SPC-4 §7.8.6.1).</summary>
public sealed record Designator(
    byte ProtocolIdentifier,
    byte CodeSet,
    bool ProtocolIdentifierValid,
    byte Association,
    byte DesignatorType,
    byte[] Value)
{
    public const byte TypeVendorSpecific = 0x0;
    public const byte TypeT10VendorId = 0x1;
    public const byte TypeEui64 = 0x2;
    public const byte TypeNaa = 0x3;
    public const byte TypeScsiName = 0x8;
    /// <summary>Association 0: the designator names the logical unit (not the port or target device).</summary>
    public const byte AssociationLogicalUnit = 0;

    public bool IsNaa => DesignatorType == TypeNaa;

    /// <summary>The value as lower-case hex (binary code set) or as text (ASCII/UTF-8 code sets).</summary>
    public string Text => CodeSet is 2 or 3
        ? System.Text.Encoding.UTF8.GetString(Value).TrimEnd('\0')
        : Convert.ToHexStringLower(Value);
}
