namespace Offhost.Io.FileSystems;

/// <summary>fe_flags of a FIEMAP extent (Documentation/filesystems/fiemap.rst).</summary>
[Flags]
public enum FiemapExtentFlags : uint
{
    None = 0,
    Last = 0x1,
    /// <summary>Location unknown (e.g. delayed allocation not yet done); fe_physical is meaningless.</summary>
    Unknown = 0x2,
    Delalloc = 0x4,
    /// <summary>Data is encoded (compressed, encrypted); the device bytes are not the file bytes.</summary>
    Encoded = 0x8,
    DataEncrypted = 0x80,
    NotAligned = 0x100,
    /// <summary>Data lives in metadata (inline); fe_physical is not a data block.</summary>
    DataInline = 0x200,
    DataTail = 0x400,
    /// <summary>Allocated but never written: reads as zeros.</summary>
    Unwritten = 0x800,
    Merged = 0x1000,
    Shared = 0x2000,
}
