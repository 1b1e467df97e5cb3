using System.Buffers.Binary;
using Offhost.Core.Errors;

namespace Offhost.Scsi.Commands;

/// <summary>VPD page 00h, Supported VPD Pages (SPC-4 §7.8.17).</summary>
public static class SupportedVpdPages
{
    public static IReadOnlyList<byte> Parse(ReadOnlySpan<byte> page)
    {
        if (page.Length < 4) CorruptStructure.Truncated("VPD page 00h", 0, 4, page.Length);
        if (page[1] != Inquiry.SupportedVpdPages)
            CorruptStructure.Throw("VPD page 00h", 1, $"page code is {page[1]:X2}h");
        int end = Math.Min(page.Length, 4 + BinaryPrimitives.ReadUInt16BigEndian(page[2..]));
        return page[4..end].ToArray();
    }
}
