using System.Buffers.Binary;
using Offhost.Core.Errors;

namespace Offhost.Scsi.Commands;

/// <summary>VPD page 83h, Device Identification (SPC-4 §7.8.6): a list of designators.</summary>
public static class DeviceIdentificationPage
{
    public static IReadOnlyList<Designator> Parse(ReadOnlySpan<byte> page)
    {
        if (page.Length < 4) CorruptStructure.Truncated("VPD page 83h", 0, 4, page.Length);
        if (page[1] != Inquiry.DeviceIdentificationPage)
            CorruptStructure.Throw("VPD page 83h", 1, $"page code is {page[1]:X2}h");
        int end = Math.Min(page.Length, 4 + BinaryPrimitives.ReadUInt16BigEndian(page[2..]));
        var list = new List<Designator>();
        int at = 4;
        while (at + 4 <= end)
        {
            int length = page[at + 3];
            if (at + 4 + length > end)
                CorruptStructure.Throw("VPD 83h designation descriptor", at, $"designator of {length} bytes runs past the page end at {end}");
            list.Add(new Designator(
                (byte)(page[at] >> 4), (byte)(page[at] & 0x0F),
                (page[at + 1] & 0x80) != 0, (byte)((page[at + 1] >> 4) & 3), (byte)(page[at + 1] & 0x0F),
                page.Slice(at + 4, length).ToArray()));
            at += 4 + length;
        }
        return list;
    }

    /// <summary>The logical unit's NAA designator as hex, or null when it has none.</summary>
    public static string? NaaOfLogicalUnit(IReadOnlyList<Designator> designators) =>
        designators.FirstOrDefault(d => d.IsNaa && d.Association == Designator.AssociationLogicalUnit && d.CodeSet == 1)?.Text;
}
