using Offhost.Core.Errors;

namespace Offhost.Scsi.Commands;

/// <summary>MODE SENSE(6) (1Ah, SPC-4 §6.13) and the header + block descriptor of its reply.</summary>
public static class ModeSense6
{
    public const byte Opcode = 0x1A;
    /// <summary>Page 3Fh = all pages; 00h = no page, header and block descriptor only (vendor page 0 on some devices).</summary>
    public const byte AllPages = 0x3F;

    public static byte[] Cdb(byte pageCode, byte allocationLengthBytes, bool disableBlockDescriptors = false)
    {
        var cdb = new byte[6];
        cdb[0] = Opcode;
        cdb[1] = disableBlockDescriptors ? (byte)0x08 : (byte)0;
        cdb[2] = (byte)(pageCode & 0x3F);
        cdb[4] = allocationLengthBytes;
        return cdb;
    }

    public static ModeParameters Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < 4) CorruptStructure.Truncated("MODE SENSE(6) parameter header", 0, 4, data.Length);
        int modeDataLength = data[0] + 1;
        int available = Math.Min(data.Length, modeDataLength);
        int descriptorLength = data[3];
        bool writeProtected = (data[2] & 0x80) != 0;
        byte deviceSpecific = data[2];
        if (descriptorLength >= 8 && available >= 4 + 8)
        {
            var d = data.Slice(4, 8);
            return new ModeParameters(deviceSpecific, writeProtected, d[0], (long)d[1] << 16 | (long)d[2] << 8 | d[3], (d[5] << 16) | (d[6] << 8) | d[7]);
        }
        return new ModeParameters(deviceSpecific, writeProtected, null, null, null);
    }
}

/// <summary>Mode parameter header and first block descriptor: density code, number of blocks and block length
/// (bytes; 0 = variable-length records on tape).</summary>
public sealed record ModeParameters(byte DeviceSpecific, bool WriteProtected, byte? DensityCode, long? BlockCount, int? BlockLengthBytes)
{
    /// <summary>Tape: BUFFERED MODE field (bits 6-4 of the device-specific byte).</summary>
    public int BufferedMode => (DeviceSpecific >> 4) & 7;
}
