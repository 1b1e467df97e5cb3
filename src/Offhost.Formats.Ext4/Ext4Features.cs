namespace Offhost.Formats.Ext4;

/// <summary><c>s_feature_compat</c>: features an implementation may ignore and still read and write.</summary>
[Flags]
public enum Ext4CompatFeatures : uint
{
    None = 0,
    DirPrealloc = 0x1,
    ImagicInodes = 0x2,
    HasJournal = 0x4,
    ExtAttr = 0x8,
    ResizeInode = 0x10,
    DirIndex = 0x20,
    LazyBg = 0x40,
    ExcludeInode = 0x80,
    ExcludeBitmap = 0x100,
    SparseSuper2 = 0x200,
    FastCommit = 0x400,
    StableInodes = 0x800,
    OrphanFile = 0x1000,
}

/// <summary><c>s_feature_incompat</c>: features a reader must understand, or refuse the volume.</summary>
[Flags]
public enum Ext4IncompatFeatures : uint
{
    None = 0,
    Compression = 0x1,
    FileType = 0x2,
    Recover = 0x4,
    JournalDev = 0x8,
    MetaBg = 0x10,
    Extents = 0x40,
    Bit64 = 0x80,
    Mmp = 0x100,
    FlexBg = 0x200,
    EaInode = 0x400,
    DirData = 0x1000,
    CsumSeed = 0x2000,
    LargeDir = 0x4000,
    InlineData = 0x8000,
    Encrypt = 0x10000,
    Casefold = 0x20000,
}

/// <summary><c>s_feature_ro_compat</c>: features a read-only reader may ignore; this mapper is read-only.</summary>
[Flags]
public enum Ext4RoCompatFeatures : uint
{
    None = 0,
    SparseSuper = 0x1,
    LargeFile = 0x2,
    BtreeDir = 0x4,
    HugeFile = 0x8,
    GdtCsum = 0x10,
    DirNlink = 0x20,
    ExtraIsize = 0x40,
    HasSnapshot = 0x80,
    Quota = 0x100,
    BigAlloc = 0x200,
    MetadataCsum = 0x400,
    Replica = 0x800,
    ReadOnly = 0x1000,
    Project = 0x2000,
    SharedBlocks = 0x4000,
    Verity = 0x8000,
    OrphanPresent = 0x10000,
}

/// <summary>The e2fsprogs names of feature bits, for messages.</summary>
public static class Ext4FeatureNames
{
    static readonly (uint Bit, string Name)[] Incompat =
    [
        (0x1, "compression"), (0x2, "filetype"), (0x4, "needs_recovery"), (0x8, "journal_dev"), (0x10, "meta_bg"),
        (0x40, "extent"), (0x80, "64bit"), (0x100, "mmp"), (0x200, "flex_bg"), (0x400, "ea_inode"),
        (0x1000, "dirdata"), (0x2000, "metadata_csum_seed"), (0x4000, "large_dir"), (0x8000, "inline_data"),
        (0x10000, "encrypt"), (0x20000, "casefold"),
    ];

    /// <summary>Names every set bit; unknown bits as <c>FEATURE_I&lt;bit&gt;</c> like e2fsprogs.</summary>
    public static string DescribeIncompat(uint bits)
    {
        var names = new List<string>();
        for (int b = 0; b < 32; b++)
        {
            uint bit = 1u << b;
            if ((bits & bit) == 0) continue;
            string? n = null;
            foreach (var (k, v) in Incompat) if (k == bit) n = v;
            names.Add(n ?? $"FEATURE_I{b}");
        }
        return string.Join(", ", names);
    }
}
