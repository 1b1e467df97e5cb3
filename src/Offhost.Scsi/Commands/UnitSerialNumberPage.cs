using System.Buffers.Binary;
using System.Text;
using Offhost.Core.Errors;

namespace Offhost.Scsi.Commands;

/// <summary>VPD page 80h, Unit Serial Number (SPC-4 §7.8.19).</summary>
public static class UnitSerialNumberPage
{
    public static string Parse(ReadOnlySpan<byte> page)
    {
        if (page.Length < 4) CorruptStructure.Truncated("VPD page 80h", 0, 4, page.Length);
        if (page[1] != Inquiry.UnitSerialNumberPage)
            CorruptStructure.Throw("VPD page 80h", 1, $"page code is {page[1]:X2}h");
        int end = Math.Min(page.Length, 4 + BinaryPrimitives.ReadUInt16BigEndian(page[2..]));
        return string.Concat(Encoding.ASCII.GetString(page[4..end]).Trim(' ', '\0').Select(c => c is >= ' ' and <= '~' ? c : '?'));
    }
}
