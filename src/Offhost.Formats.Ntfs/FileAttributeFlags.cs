namespace Offhost.Formats.Ntfs;

/// <summary>The FILE_ATTRIBUTE_* flags kept in $STANDARD_INFORMATION and $FILE_NAME, with the names the storage map uses.</summary>
internal static class FileAttributeFlags
{
    public const uint ReadOnly = 0x0001;
    public const uint System = 0x0004;
    public const uint Compressed = 0x0800;
    /// <summary>Only in $FILE_NAME: the file is a directory (it has a $I30 index).</summary>
    public const uint DirectoryIndexPresent = 0x1000_0000;

    static readonly (uint Bit, string Name)[] Names =
    [
        (0x0001, "readonly"), (0x0002, "hidden"), (0x0004, "system"), (0x0010, "directory"), (0x0020, "archive"),
        (0x0040, "device"), (0x0080, "normal"), (0x0100, "temporary"), (0x0200, "sparse"), (0x0400, "reparse"),
        (0x0800, "compressed"), (0x1000, "offline"), (0x2000, "not_indexed"), (0x4000, "encrypted"),
        (0x8000, "integrity_stream"), (0x1_0000, "virtual"), (0x2_0000, "no_scrub_data"), (0x4_0000, "recall_on_open"),
        (0x8_0000, "pinned"), (0x10_0000, "unpinned"), (0x40_0000, "recall_on_data_access"),
    ];

    static readonly string[] None = [];

    public static IReadOnlyList<string> ToNames(uint flags)
    {
        if (flags == 0) return None;
        var list = new List<string>(4);
        foreach (var (bit, name) in Names)
            if ((flags & bit) != 0) list.Add(name);
        return list;
    }
}
