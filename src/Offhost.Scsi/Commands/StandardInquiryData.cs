using System.Text;
using Offhost.Core.Errors;

namespace Offhost.Scsi.Commands;

/// <summary>Standard INQUIRY data (SPC-4 §6.6.2), the fields a client needs. Offsets in errors are relative to the response.</summary>
public sealed record StandardInquiryData(
    byte PeripheralQualifier,
    PeripheralDeviceType DeviceType,
    bool Removable,
    byte Version,
    bool ThirdPartyCopy,
    string Vendor,
    string Product,
    string Revision)
{
    /// <summary>Bytes a response needs for the fields above.</summary>
    public const int MinimumLength = 36;

    /// <summary>Peripheral qualifier 3: no logical unit at this LUN.</summary>
    public bool LogicalUnitPresent => PeripheralQualifier == 0;

    public static StandardInquiryData Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < 5) CorruptStructure.Truncated("standard INQUIRY data", 0, 5, data.Length);
        int additional = data[4];
        int available = Math.Min(data.Length, 5 + additional);
        return new StandardInquiryData(
            (byte)(data[0] >> 5),
            (PeripheralDeviceType)(data[0] & 0x1F),
            data.Length > 1 && (data[1] & 0x80) != 0,
            data.Length > 2 ? data[2] : (byte)0,
            available > 5 && (data[5] & 0x08) != 0,
            Ascii(data, available, 8, 8),
            Ascii(data, available, 16, 16),
            Ascii(data, available, 32, 4));
    }

    static string Ascii(ReadOnlySpan<byte> data, int available, int at, int length) =>
        available >= at + length
            ? string.Concat(Encoding.ASCII.GetString(data.Slice(at, length)).TrimEnd(' ', '\0').Select(c => c is >= ' ' and <= '~' ? c : '?'))
            : "";
}
