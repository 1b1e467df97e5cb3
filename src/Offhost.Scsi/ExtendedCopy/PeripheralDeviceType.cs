namespace Offhost.Scsi.ExtendedCopy;

/// <summary>PERIPHERAL DEVICE TYPE values that matter to a copy manager, and the class they belong to.</summary>
public static class PeripheralDeviceType
{
    public const byte DirectAccessBlock = 0x00;
    public const byte SequentialAccess = 0x01;
    public const byte Processor = 0x03;
    public const byte WriteOnce = 0x04;
    public const byte CdDvd = 0x05;
    public const byte OpticalMemory = 0x07;
    public const byte SimplifiedDirectAccess = 0x0E;

    /// <summary>True for the PDTs whose device-type-specific CSCD parameters are the block format (00h, 04h, 05h, 07h, 0Eh).</summary>
    public static bool IsBlock(byte pdt) => pdt is 0x00 or 0x04 or 0x05 or 0x07 or 0x0E;

    /// <summary>True for stream PDTs (01h tape, 03h processor).</summary>
    public static bool IsStream(byte pdt) => pdt is 0x01 or 0x03;
}
