using System.Buffers.Binary;
using Offhost.Core.Errors;

namespace Offhost.Scsi.Commands;

/// <summary>REPORT LUNS (A0h, SPC-4 §6.33) and its LUN list.</summary>
public static class ReportLuns
{
    public const byte Opcode = 0xA0;
    /// <summary>Largest list accepted from a target (bytes): 16384 LUNs.</summary>
    public const int MaxListBytes = 8 + 16384 * 8;

    public static byte[] Cdb(uint allocationLengthBytes)
    {
        var cdb = new byte[12];
        cdb[0] = Opcode;
        BinaryPrimitives.WriteUInt32BigEndian(cdb.AsSpan(6), allocationLengthBytes);
        return cdb;
    }

    /// <summary>The 8-byte SAM LUNs of the list (truncated lists yield what arrived). <see cref="ListLengthBytes"/> gives
    /// the length the target wanted, to retry with a larger allocation.</summary>
    public static IReadOnlyList<ulong> Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < 8) CorruptStructure.Truncated("REPORT LUNS parameter data", 0, 8, data.Length);
        uint listLength = BinaryPrimitives.ReadUInt32BigEndian(data);
        if (listLength % 8 != 0) CorruptStructure.Throw("REPORT LUNS parameter data", 0, $"LUN LIST LENGTH {listLength} is not a multiple of 8");
        long end = Math.Min(data.Length, 8 + (long)listLength);
        var luns = new List<ulong>();
        for (int at = 8; at + 8 <= end; at += 8) luns.Add(BinaryPrimitives.ReadUInt64BigEndian(data[at..]));
        return luns;
    }

    public static long ListLengthBytes(ReadOnlySpan<byte> data) =>
        data.Length < 4 ? 0 : 8 + (long)BinaryPrimitives.ReadUInt32BigEndian(data);
}
