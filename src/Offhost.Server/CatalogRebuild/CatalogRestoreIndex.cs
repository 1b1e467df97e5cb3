using Offhost.Catalog;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Index;
using Offhost.Formats.Tape.Pax;

namespace Offhost.Server.CatalogRebuild;

/// <summary>Where a catalogued backup's archive is, and its members as a restore needs them.</summary>
/// <param name="MediaLabel">The tape to load.</param>
/// <param name="ArchiveFileNumber">The archive's tape file number.</param>
/// <param name="Index">Members rebuilt from the catalog; directories, symlinks and hard links have no offset (−1) and are matched by name.</param>
public sealed record CatalogBackupLocation(string MediaLabel, int ArchiveFileNumber, TapeIndex Index);

/// <summary>
/// Turns a catalogued backup back into what <see cref="Restore.FileRestoreJob"/> needs (via
/// <see cref="Restore.FileRestoreRequest.Index"/>), so a restore works from the catalog without reading the index
/// tape file. Also the mapping between catalog paths ("/dir/file" per volume) and archive member names.
/// </summary>
public static class CatalogRestoreIndex
{
    /// <summary>The tape and archive file of a catalogued backup, from its tape-file records, without building its member
    /// list (a volume restore reads the index from the tape itself); falls back to <see cref="Build"/> when the catalog
    /// has no archive record for it.</summary>
    public static (string MediaLabel, int ArchiveFileNumber) Locate(Catalog.Catalog catalog, string backupId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var archive = catalog.TapeFilesOf(backupId).FirstOrDefault(f => f.Kind == TapeFileKind.Archive);
        if (archive is not null) return (archive.MediaLabel, archive.FileNumber);
        var built = Build(catalog, backupId, cancellationToken);
        return (built.MediaLabel, built.ArchiveFileNumber);
    }

    public static CatalogBackupLocation Build(Catalog.Catalog catalog, string backupId, CancellationToken cancellationToken = default)
    {
        var backup = catalog.GetBackup(backupId) ?? throw new UserFacingException($"no backup {backupId} in the catalog", 2);
        int volumes = Math.Max(1, backup.Sources.Count);
        var entries = new List<TapeIndexEntry>();
        string? media = null;
        int? archive = null;
        foreach (var f in catalog.FilesWithStreams(backupId, cancellationToken))
        {
            string member = MemberName(f.Path, Math.Max(1, f.VolumeIndex), volumes);
            var main = f.Streams.FirstOrDefault(s => s.Name.Length == 0 && s.Location is not null);
            long memberOffset = main?.Location?.HeaderOffsetBytes ?? -1;
            var streams = new List<TapeIndexStream>();
            foreach (var s in f.Streams)
            {
                if (s.Location is not { } loc) continue;
                media ??= loc.MediaLabel;
                archive ??= loc.FileNumber;
                bool inHeader = s.Name.Length > 0 && loc.HeaderOffsetBytes == memberOffset && loc.DataOffsetBytes == memberOffset;
                var stream = new TapeIndexStream(s.Name, s.SizeBytes, loc.HeaderOffsetBytes, loc.DataOffsetBytes, s.XxHash64 ?? 0)
                {
                    Storage = inHeader ? TapeStreamStorage.ExtendedHeader : TapeStreamStorage.MemberData,
                };
                if (s.Name.Length > 0 && !inHeader)
                    entries.Add(new TapeIndexEntry(member + ":" + s.Name, PaxEntryKind.File, loc.HeaderOffsetBytes) { SizeBytes = s.SizeBytes, Streams = [stream] });
                else streams.Add(stream);
            }
            var kind = f.Kind switch
            {
                CatalogFileKind.Directory => PaxEntryKind.Directory,
                CatalogFileKind.Symlink => PaxEntryKind.Symlink,
                CatalogFileKind.Special when f.Special is { } special => PaxEntryKinds.Of(special),
                _ => PaxEntryKind.File,
            };
            entries.Add(new TapeIndexEntry(member, kind, kind == PaxEntryKind.File ? memberOffset : -1)
            {
                SizeBytes = f.SizeBytes,
                Mode = f.Mode ?? 0,
                Uid = f.Uid ?? 0,
                Gid = f.Gid ?? 0,
                Modified = f.Modified,
                LinkTarget = kind == PaxEntryKind.Symlink ? f.Target : null,
                Device = PaxEntryKinds.HasDevice(kind) ? f.Device : null,
                Streams = streams,
            });
            foreach (var link in f.Links)
                entries.Add(new TapeIndexEntry(MemberName(link, Math.Max(1, f.VolumeIndex), volumes), PaxEntryKind.HardLink, -1) { LinkTarget = member });
        }
        if (media is null || archive is null)
        {
            // No stream carries a location: fall back to the tape file records.
            throw new UserFacingException($"backup {backupId} has no file with a tape location in the catalog", 2);
        }
        var header = new TapeIndexHeader(Guid.Empty, backup.Sources[0].Path, MapTime.FromDateTimeOffset(backup.FrozenImageAt ?? backup.StartedAt), archive.Value);
        return new CatalogBackupLocation(media, archive.Value, new TapeIndex(header, entries));
    }

    /// <summary>The archive member name of catalog path <paramref name="path"/> on volume <paramref name="volume"/> (1-based).</summary>
    public static string MemberName(string path, int volume, int volumes) => (volumes > 1 ? $"vol{volume}/" : "") + path.TrimStart('/');

    /// <summary>The volume (1-based) and catalog path of an archive member name.</summary>
    public static (int Volume, string Path) SplitMember(string member, int volumes)
    {
        if (volumes > 1 && member.StartsWith("vol", StringComparison.Ordinal))
        {
            int slash = member.IndexOf('/', StringComparison.Ordinal);
            if (slash > 3 && int.TryParse(member.AsSpan(3, slash - 3), out int v)) return (v, "/" + member[(slash + 1)..]);
        }
        return (1, "/" + member);
    }
}
