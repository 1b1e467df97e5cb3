namespace Offhost.Catalog;

/// <summary>Where the catalog lives by default: <c>$XDG_DATA_HOME/offhost/catalog.db</c>, falling back to
/// <c>~/.local/share/offhost/catalog.db</c> (XDG Base Directory specification).</summary>
public static class CatalogLocation
{
    public static string DefaultPath()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        // The specification says a relative XDG_DATA_HOME is invalid and must be ignored.
        string dataHome = !string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(dataHome, "offhost", "catalog.db");
    }
}
