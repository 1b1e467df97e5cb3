using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Offhost.Formats.Tape.Pax;

/// <summary>The header bytes of one member and its layout, from <see cref="PaxEntryEncoder.Encode"/>.</summary>
public sealed record PaxEncodedMember(byte[] Header, PaxMemberLayout Layout);

/// <summary>
/// Encodes archive members of the Offhost backup image: POSIX pax (ustar + 'x' extended headers), GNU sparse
/// 1.0 for sparse files, <c>SCHILY.xattr.*</c> for extended attributes and NTFS metadata. See
/// docs/formats/tape-format.md, "Archive tape file". Pure and thread-safe: produces bytes the planner can send as
/// inline data; the file data itself is copied by the caller into the ranges given by <see cref="PaxMemberLayout"/>.
/// </summary>
public static class PaxEntryEncoder
{
    /// <summary>Bound on the extended header of one member (xattrs included), so a reader never buffers more.</summary>
    public const int MaxExtendedHeaderBytes = 8 * 1024 * 1024;

    /// <summary>xattr name carrying NTFS attribute bits, as ntfs-3g exposes them (32-bit big-endian).</summary>
    public const string NtfsAttributesXattr = "system.ntfs_attrib_be";

    /// <summary>xattr name carrying NTFS creation time, as ntfs-3g exposes it (64-bit FILETIME, big-endian).</summary>
    public const string NtfsCreationTimeXattr = "system.ntfs_crtime_be";

    /// <summary>star's keywords for device numbers too large for the ustar fields.</summary>
    public const string DevMajorKeyword = "SCHILY.devmajor", DevMinorKeyword = "SCHILY.devminor";

    /// <summary>star's keyword for a file type ustar has no typeflag for; a socket member carries <c>socket</c>.</summary>
    public const string FileTypeKeyword = "SCHILY.filetype", SocketFileType = "socket";

    /// <summary>All header blocks of the member: pax extended header, ustar header and, for sparse files, the
    /// sparse map blocks that begin the data area. A multiple of 512 bytes.</summary>
    public static byte[] EncodeHeader(PaxEntry entry) => Encode(entry).Header;

    public static PaxEncodedMember Encode(PaxEntry entry)
    {
        string path = MemberName(entry.Path, nameof(entry));
        if (entry.Kind == PaxEntryKind.Directory && !path.EndsWith('/')) path += "/";
        if (entry.Mode > 0xFFF) throw new ArgumentException($"mode {Convert.ToString(entry.Mode, 8)} has bits beyond 07777; the type comes from Kind", nameof(entry));
        if (entry.SizeBytes < 0) throw new ArgumentException("negative size", nameof(entry));
        if (entry.Kind != PaxEntryKind.File && entry.SizeBytes != 0) throw new ArgumentException($"{entry.Kind} members carry no data; SizeBytes must be 0", nameof(entry));
        if (entry.Kind != PaxEntryKind.File && entry.SparseMap is not null) throw new ArgumentException("only files can be sparse", nameof(entry));
        if (PaxEntryKinds.HasDevice(entry.Kind) != entry.Device.HasValue)
            throw new ArgumentException(entry.Device is null ? $"{entry.Kind} needs a Device" : $"{entry.Kind} members carry no device number", nameof(entry));
        if (entry.Kind is PaxEntryKind.Symlink or PaxEntryKind.HardLink && string.IsNullOrEmpty(entry.LinkTarget))
            throw new ArgumentException($"{entry.Kind} needs a LinkTarget", nameof(entry));
        string link = entry.Kind switch
        {
            PaxEntryKind.HardLink => MemberName(entry.LinkTarget!, nameof(entry)),
            PaxEntryKind.Symlink => CheckText(entry.LinkTarget!, "link target"),
            _ => "",
        };

        var records = new ArrayBufferWriter<byte>();
        var segments = new List<PaxDataSegment>();
        bool sparse = entry.SparseMap is not null;
        byte[]? sparseMap = null;
        long dataAreaBytes;   // ustar/pax "size": bytes of the data area before padding of its last block
        if (sparse)
        {
            sparseMap = EncodeSparseMap(entry.SparseMap!, entry.SizeBytes);
            dataAreaBytes = sparseMap.Length;
            foreach (var s in entry.SparseMap!)
            {
                segments.Add(new PaxDataSegment(s.OffsetBytes, s.LengthBytes, dataAreaBytes));
                dataAreaBytes = checked(dataAreaBytes + PaxLayout.RoundUpToBlock(s.LengthBytes));
            }
        }
        else
        {
            dataAreaBytes = entry.SizeBytes;
            if (entry.SizeBytes > 0) segments.Add(new PaxDataSegment(0, entry.SizeBytes, 0));
        }

        // ustar name fields: the real name when it fits, else a printable stand-in and a pax "path" record.
        byte[] ustarName, ustarPrefix = [];
        if (sparse)
        {
            // GNU sparse 1.0: the ustar name is a placeholder, GNU.sparse.name carries the real name.
            ustarName = UstarHeader.Fallback("GNUSparseFile.0/" + BaseName(path), UstarHeader.NameBytes);
            PaxRecords.Append(records, "GNU.sparse.major", "1");
            PaxRecords.Append(records, "GNU.sparse.minor", "0");
            PaxRecords.Append(records, "GNU.sparse.name", path);
            PaxRecords.Append(records, "GNU.sparse.realsize", entry.SizeBytes.ToString(CultureInfo.InvariantCulture));
        }
        else if (!TrySplitUstar(path, out ustarName, out ustarPrefix))
        {
            ustarName = UstarHeader.Fallback(path, UstarHeader.NameBytes);
            ustarPrefix = [];
            PaxRecords.Append(records, "path", path);
        }
        else if (ustarPrefix.Length > 0)
        {
            // The ustar prefix split is kept for ustar-only readers, but pax readers do not all join it with the
            // name (System.Formats.Tar ignores it in pax members), so the full name also goes into a path record.
            PaxRecords.Append(records, "path", path);
        }
        byte[] ustarLink = [];
        if (link.Length > 0)
        {
            if (UstarHeader.FitsAscii(link, UstarHeader.NameBytes)) ustarLink = Encoding.ASCII.GetBytes(link);
            else
            {
                ustarLink = UstarHeader.Fallback(link, UstarHeader.NameBytes);
                PaxRecords.Append(records, "linkpath", link);
            }
        }
        // Linux device numbers (12-bit major, 20-bit minor) always fit the 7-digit fields; larger ones need star's records.
        if (entry.Device is { } dev)
        {
            if (dev.Major > UstarHeader.MaxOctal7) PaxRecords.Append(records, DevMajorKeyword, dev.Major.ToString(CultureInfo.InvariantCulture));
            if (dev.Minor > UstarHeader.MaxOctal7) PaxRecords.Append(records, DevMinorKeyword, dev.Minor.ToString(CultureInfo.InvariantCulture));
        }
        if (entry.Kind == PaxEntryKind.Socket) PaxRecords.Append(records, FileTypeKeyword, SocketFileType);
        if (dataAreaBytes > UstarHeader.MaxOctal11) PaxRecords.Append(records, "size", dataAreaBytes.ToString(CultureInfo.InvariantCulture));
        if (entry.Uid > UstarHeader.MaxOctal7) PaxRecords.Append(records, "uid", entry.Uid.ToString(CultureInfo.InvariantCulture));
        if (entry.Gid > UstarHeader.MaxOctal7) PaxRecords.Append(records, "gid", entry.Gid.ToString(CultureInfo.InvariantCulture));
        if (entry.UserName is { } u && !UstarHeader.FitsAscii(u, 31)) PaxRecords.Append(records, "uname", CheckText(u, "user name"));
        if (entry.GroupName is { } g && !UstarHeader.FitsAscii(g, 31)) PaxRecords.Append(records, "gname", CheckText(g, "group name"));
        if (entry.Modified is { } m) PaxRecords.Append(records, "mtime", PaxRecords.FormatTime(m));
        if (entry.Accessed is { } a) PaxRecords.Append(records, "atime", PaxRecords.FormatTime(a));
        if (entry.Changed is { } c) PaxRecords.Append(records, "ctime", PaxRecords.FormatTime(c));
        if (entry.NtfsAttributes is { } attrs)
        {
            Span<byte> v = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(v, attrs);
            PaxRecords.Append(records, "SCHILY.xattr." + NtfsAttributesXattr, v);
        }
        if (entry.NtfsCreated is { } created)
        {
            Span<byte> v = stackalloc byte[8];
            BinaryPrimitives.WriteInt64BigEndian(v, created.ToFileTime());
            PaxRecords.Append(records, "SCHILY.xattr." + NtfsCreationTimeXattr, v);
        }
        foreach (var (name, value) in entry.Xattrs.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (name.Length == 0 || name.Contains('\0') || name.Contains('\n'))
                throw new ArgumentException($"xattr name '{name}' is empty or contains NUL or newline", nameof(entry));
            PaxRecords.Append(records, "SCHILY.xattr." + EncodeXattrName(name), value.Span);
            if (records.WrittenCount > MaxExtendedHeaderBytes) break;
        }
        if (records.WrittenCount > MaxExtendedHeaderBytes)
            throw new ArgumentException($"extended header of '{path}' exceeds {MaxExtendedHeaderBytes} bytes", nameof(entry));

        long mtime = entry.Modified?.UnixSeconds ?? 0;
        byte type = entry.Kind switch
        {
            PaxEntryKind.File => (byte)'0',
            PaxEntryKind.Directory => (byte)'5',
            PaxEntryKind.Symlink => (byte)'2',
            PaxEntryKind.Fifo => (byte)'6',
            PaxEntryKind.CharDevice => (byte)'3',
            PaxEntryKind.BlockDevice => (byte)'4',
            PaxEntryKind.Socket => (byte)'0',
            _ => (byte)'1',
        };
        long extendedBytes = records.WrittenCount == 0 ? 0 : PaxLayout.BlockBytes + PaxLayout.RoundUpToBlock(records.WrittenCount);
        long headerBytes = extendedBytes + PaxLayout.BlockBytes + (sparseMap?.Length ?? 0);
        var header = new byte[headerBytes];
        int at = 0;
        if (records.WrittenCount > 0)
        {
            byte[] xName = UstarHeader.Fallback("PaxHeaders.0/" + BaseName(path.TrimEnd('/')), UstarHeader.NameBytes);
            UstarHeader.Write(header, xName, [], 0b110_100_100, 0, 0, records.WrittenCount, mtime, (byte)'x', [], null, null);
            records.WrittenSpan.CopyTo(header.AsSpan(PaxLayout.BlockBytes));
            at = (int)extendedBytes;
        }
        UstarHeader.Write(header.AsSpan(at), ustarName, ustarPrefix, entry.Mode, entry.Uid, entry.Gid, dataAreaBytes, mtime, type, ustarLink,
            entry.UserName, entry.GroupName, entry.Device?.Major ?? 0, entry.Device?.Minor ?? 0);
        at += PaxLayout.BlockBytes;
        if (sparseMap is not null) sparseMap.CopyTo(header.AsSpan(at));

        // Segment offsets so far are relative to the data area (which, for sparse members, begins with the map).
        var placed = segments.Select(s => s with { MemberOffsetBytes = s.MemberOffsetBytes + extendedBytes + PaxLayout.BlockBytes }).ToList();
        long total = checked(extendedBytes + PaxLayout.BlockBytes + PaxLayout.RoundUpToBlock(dataAreaBytes));
        return new PaxEncodedMember(header, new PaxMemberLayout(headerBytes, placed, total));
    }

    /// <summary>The GNU sparse 1.0 map: decimal count, then offset and length per range, one per line, padded to 512.
    /// A final empty range at the real size is added when the file ends in a hole, as GNU tar does.</summary>
    static byte[] EncodeSparseMap(IReadOnlyList<SparseSegment> map, long realSizeBytes)
    {
        long prevEnd = 0;
        foreach (var s in map)
        {
            if (s.OffsetBytes < prevEnd || s.LengthBytes <= 0 || s.EndBytes > realSizeBytes || s.EndBytes < s.OffsetBytes)
                throw new ArgumentException($"sparse map range [{s.OffsetBytes}, +{s.LengthBytes}) is empty, unsorted, overlapping or past the size {realSizeBytes}", nameof(map));
            prevEnd = s.EndBytes;
        }
        var lines = new StringBuilder();
        bool trailingHole = prevEnd < realSizeBytes || map.Count == 0;
        lines.Append(CultureInfo.InvariantCulture, $"{map.Count + (trailingHole ? 1 : 0)}\n");
        foreach (var s in map) lines.Append(CultureInfo.InvariantCulture, $"{s.OffsetBytes}\n{s.LengthBytes}\n");
        if (trailingHole) lines.Append(CultureInfo.InvariantCulture, $"{realSizeBytes}\n0\n");
        byte[] text = Encoding.ASCII.GetBytes(lines.ToString());
        var block = new byte[PaxLayout.RoundUpToBlock(text.Length)];
        text.CopyTo(block, 0);
        return block;
    }

    /// <summary>Splits an ASCII path into ustar name (≤ 100) and prefix (≤ 155) at a '/', if possible.</summary>
    static bool TrySplitUstar(string path, out byte[] name, out byte[] prefix)
    {
        name = [];
        prefix = [];
        if (!UstarHeader.FitsAscii(path, UstarHeader.NameBytes + 1 + UstarHeader.PrefixBytes)) return false;
        if (path.Length <= UstarHeader.NameBytes) { name = Encoding.ASCII.GetBytes(path); return true; }
        for (int i = path.Length - 1; i > 0; i--)
        {
            if (path[i] != '/' || i > UstarHeader.PrefixBytes) continue;
            if (path.Length - i - 1 > UstarHeader.NameBytes) return false;
            if (path.Length - i - 1 == 0) continue;
            prefix = Encoding.ASCII.GetBytes(path[..i]);
            name = Encoding.ASCII.GetBytes(path[(i + 1)..]);
            return true;
        }
        return false;
    }

    /// <summary>GNU tar escapes '%' and '=' in xattr names inside pax keywords (xattr_encode_keyword).</summary>
    static string EncodeXattrName(string name) => name.Replace("%", "%25", StringComparison.Ordinal).Replace("=", "%3D", StringComparison.Ordinal);

    static string MemberName(string path, string paramName)
    {
        string p = path.TrimStart('/');
        CheckText(p, "path");
        if (p.Length == 0) throw new ArgumentException("empty member name", paramName);
        foreach (var part in p.Split('/'))
            if (part == "..") throw new ArgumentException($"member name '{path}' contains '..'", paramName);
        return p;
    }

    static string CheckText(string s, string what)
    {
        if (s.Contains('\0')) throw new ArgumentException($"{what} contains NUL");
        return s;
    }

    static string BaseName(string path)
    {
        string p = path.TrimEnd('/');
        int slash = p.LastIndexOf('/');
        return slash < 0 ? p : p[(slash + 1)..];
    }
}
