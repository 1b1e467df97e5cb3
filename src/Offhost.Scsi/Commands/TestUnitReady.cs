namespace Offhost.Scsi.Commands;

/// <summary>TEST UNIT READY (00h, SPC-4 §6.47): no data.</summary>
public static class TestUnitReady
{
    public const byte Opcode = 0x00;

    public static byte[] Cdb() => new byte[6];
}
