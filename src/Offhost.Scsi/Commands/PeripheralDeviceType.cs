namespace Offhost.Scsi.Commands;

/// <summary>PERIPHERAL DEVICE TYPE of INQUIRY data (SPC-4 table 141, subset).</summary>
public enum PeripheralDeviceType : byte
{
    DirectAccess = 0x00,
    SequentialAccess = 0x01,
    Processor = 0x03,
    CdDvd = 0x05,
    MediumChanger = 0x08,
    StorageArrayController = 0x0C,
    Enclosure = 0x0D,
    WellKnownLogicalUnit = 0x1E,
    Unknown = 0x1F,
}
