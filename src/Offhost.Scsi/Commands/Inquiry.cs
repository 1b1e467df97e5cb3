using System.Buffers.Binary;

namespace Offhost.Scsi.Commands;

/// <summary>INQUIRY (12h, SPC-4 §6.6): standard data or a VPD page.</summary>
public static class Inquiry
{
    public const byte Opcode = 0x12;
    public const byte SupportedVpdPages = 0x00;
    public const byte UnitSerialNumberPage = 0x80;
    public const byte DeviceIdentificationPage = 0x83;

    public static byte[] Cdb(ushort allocationLengthBytes) => Cdb(evpd: false, 0, allocationLengthBytes);

    public static byte[] VpdCdb(byte page, ushort allocationLengthBytes) => Cdb(evpd: true, page, allocationLengthBytes);

    static byte[] Cdb(bool evpd, byte page, ushort allocationLengthBytes)
    {
        var cdb = new byte[6];
        cdb[0] = Opcode;
        cdb[1] = evpd ? (byte)1 : (byte)0;
        cdb[2] = page;
        BinaryPrimitives.WriteUInt16BigEndian(cdb.AsSpan(3), allocationLengthBytes);
        return cdb;
    }
}
