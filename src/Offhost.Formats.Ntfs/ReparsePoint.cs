using System.Buffers.Binary;
using System.Text;
using Offhost.Core.Errors;

namespace Offhost.Formats.Ntfs;

/// <summary>
/// $REPARSE_POINT (0xC0) for the link kinds the map knows: IO_REPARSE_TAG_SYMLINK, IO_REPARSE_TAG_MOUNT_POINT (junction)
/// and IO_REPARSE_TAG_LX_SYMLINK (WSL), plus the Interix symlink file that ntfs-3g writes for a POSIX symlink.
/// </summary>
internal static class ReparsePoint
{
    public const uint TagMountPoint = 0xA000_0003;
    public const uint TagSymlink = 0xA000_000C;
    public const uint TagLxSymlink = 0xA000_001D;
    const int HeaderBytes = 8;

    /// <summary>Max Interix symlink file: magic plus a 4096-character target in UTF-16.</summary>
    public const int MaxInterixBytes = 8 + 2 * 4096;
    public static ReadOnlySpan<byte> InterixSymlinkMagic => "IntxLNK\u0001"u8;

    /// <summary>Returns (link kind, target) for a link tag, or null for other tags.</summary>
    public static (string Kind, string Target)? ReadLink(ReadOnlySpan<byte> value, long deviceOffset)
    {
        const string S = "$REPARSE_POINT";
        if (value.Length < HeaderBytes) CorruptStructure.Truncated(S, deviceOffset, HeaderBytes, value.Length);
        uint tag = BinaryPrimitives.ReadUInt32LittleEndian(value);
        int dataBytes = BinaryPrimitives.ReadUInt16LittleEndian(value[4..]);
        if (dataBytes > value.Length - HeaderBytes) CorruptStructure.Truncated(S, deviceOffset, HeaderBytes + dataBytes, value.Length);
        var data = value.Slice(HeaderBytes, dataBytes);
        switch (tag)
        {
            case TagSymlink:
                return ("symlink", PathBuffer(data, 12, deviceOffset + HeaderBytes));
            case TagMountPoint:
                return ("junction", PathBuffer(data, 8, deviceOffset + HeaderBytes));
            case TagLxSymlink:
                if (data.Length < 4) CorruptStructure.Truncated(S, deviceOffset + HeaderBytes, 4, data.Length);
                return ("symlink", Encoding.UTF8.GetString(data[4..]));
            default:
                return null;
        }
    }

    // Substitute and print names live in a path buffer after the fixed fields; the print name is the one a user wrote.
    static string PathBuffer(ReadOnlySpan<byte> data, int bufferStart, long deviceOffset)
    {
        const string S = "$REPARSE_POINT link data";
        if (data.Length < bufferStart) CorruptStructure.Truncated(S, deviceOffset, bufferStart, data.Length);
        int subOff = BinaryPrimitives.ReadUInt16LittleEndian(data), subLen = BinaryPrimitives.ReadUInt16LittleEndian(data[2..]);
        int printOff = BinaryPrimitives.ReadUInt16LittleEndian(data[4..]), printLen = BinaryPrimitives.ReadUInt16LittleEndian(data[6..]);
        var buffer = data[bufferStart..];
        if (subOff + subLen > buffer.Length || printOff + printLen > buffer.Length || ((subLen | printLen) & 1) != 0)
            CorruptStructure.Throw(S, deviceOffset, "substitute or print name runs past the path buffer");
        var chosen = printLen > 0 ? buffer.Slice(printOff, printLen) : buffer.Slice(subOff, subLen);
        return Encoding.Unicode.GetString(chosen);
    }

    /// <summary>The target of an Interix symlink file, or null if the bytes are not one.</summary>
    public static string? ReadInterixTarget(ReadOnlySpan<byte> content)
    {
        if (content.Length < InterixSymlinkMagic.Length || !content.StartsWith(InterixSymlinkMagic)) return null;
        var t = content[InterixSymlinkMagic.Length..];
        return Encoding.Unicode.GetString(t[..(t.Length & ~1)]);
    }
}
