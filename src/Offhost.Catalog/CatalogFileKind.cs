namespace Offhost.Catalog;

public enum CatalogFileKind
{
    File = 0,
    Directory = 1,
    Symlink = 2,
    /// <summary>Device nodes, FIFOs, sockets: metadata only.</summary>
    Special = 3,
    /// <summary>Could not be mapped; <see cref="CatalogFile.Error"/> says why.</summary>
    Unmappable = 4,
}
