using Offhost.Catalog;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Index;
using Offhost.Formats.Tape.Pax;
using Offhost.Server.CatalogRebuild;

namespace Offhost.Server.Backup;

/// <summary>
/// Records what a backup holds in the catalog, from its tape index and the storage maps stored in its archive: the
/// same source for a backup just written and for one rebuilt from a tape, so both catalogue alike. Paths are catalogued
/// as in the storage map ("/dir/file", per volume).
/// </summary>
public static class BackupCatalogue
{
    /// <summary>Writes every file of a backup, in archive order and as each is complete, so that memory does not grow
    /// with the number of files; returns how many and their data bytes (all streams).</summary>
    /// <param name="maps">Each volume's storage-map entries in stored order.</param>
    public static (long Files, long DataBytes) RecordFiles(Catalog.Catalog catalog, string backupId, string media, int archiveFile,
        TapeIndex index, IReadOnlyList<IEnumerable<MapEntry>> maps)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(maps);
        int volumes = Math.Max(1, maps.Count);
        using var cataloguer = new Cataloguer(catalog, backupId, media, archiveFile, volumes);
        using var cursor = new MapCursor(maps, volumes);
        foreach (var entry in index.Entries) cataloguer.Add(entry, cursor);
        return cataloguer.Complete();
    }

    /// <summary>Overload for maps already decoded.</summary>
    public static (long Files, long DataBytes) RecordFiles(Catalog.Catalog catalog, string backupId, string media, int archiveFile,
        TapeIndex index, IReadOnlyList<Restore.StoredMap> maps)
    {
        ArgumentNullException.ThrowIfNull(maps);
        return RecordFiles(catalog, backupId, media, archiveFile, index, maps.Select(m => m.Entries).ToList());
    }

    /// <summary>The backup's own members (storage maps, volume remainders under <c>.offhost/</c>) are not user files.</summary>
    static bool IsOwnMember(string member, int volumes) =>
        CatalogRestoreIndex.SplitMember(member, volumes).Path.StartsWith("/.offhost/", StringComparison.Ordinal);

    /// <summary>True when volume <paramref name="volume"/> (1-based) of the archive has its remainder member, i.e. the
    /// backup holds the whole volume and not a file set.</summary>
    public static bool HasRemainder(TapeIndex index, int volume, int volumes)
    {
        ArgumentNullException.ThrowIfNull(index);
        string name = CatalogRestoreIndex.MemberName($".offhost/volume-{volume}.remainder", volume, volumes);
        return index.Entries.Any(e => e.Path == name);
    }

    /// <summary>Where the storage-map entry of an archive member comes from.</summary>
    internal interface IMapLookup
    {
        /// <summary>The entry of member <paramref name="member"/> on <paramref name="volume"/> (1-based); null when the map has none.</summary>
        MapEntry? Take(string member, int volume);

        /// <summary>A hard-link member passed by (it takes no entry of its own).</summary>
        void Skip(string member);
    }

    /// <summary>
    /// Folds a backup's index members, in archive order, into catalog files (alternate data stream members become
    /// streams, hard-link members become links), enriched with the storage map's extents and metadata, and writes each
    /// file as it is complete. Fed either from a tape index and the stored maps read alongside it (<see cref="MapCursor"/>),
    /// or member by member while the backup is written (<see cref="Add(TapeIndexEntry, MapEntry?)"/>). Not thread-safe.
    /// </summary>
    public sealed class Cataloguer : IDisposable
    {
        readonly CatalogFileWriter writer;
        readonly FileSink sink;
        readonly string media;
        readonly int archiveFile;
        readonly int volumes;
        readonly LiveLookup live;

        /// <param name="volumes">How many volumes the backup holds (member names carry <c>volN/</c> when more than one).</param>
        public Cataloguer(Catalog.Catalog catalog, string backupId, string media, int archiveFile, int volumes)
        {
            ArgumentNullException.ThrowIfNull(catalog);
            this.media = media;
            this.archiveFile = archiveFile;
            this.volumes = Math.Max(1, volumes);
            live = new LiveLookup(this.volumes);
            writer = catalog.BeginFiles(backupId);
            sink = new FileSink(writer);
        }

        /// <summary>Adds the next member of the archive; <paramref name="source"/> is the storage-map entry it was planned
        /// from (its checksums must be in <paramref name="entry"/> already).</summary>
        public void Add(TapeIndexEntry entry, MapEntry? source)
        {
            live.Current = source;
            Add(entry, live);
        }

        /// <summary>Commits what was added so far (the catalog's write lock is held only while rows are being added).</summary>
        public void Commit() => writer.Flush();

        internal void Add(TapeIndexEntry entry, IMapLookup map)
        {
            ArgumentNullException.ThrowIfNull(entry);
            string member = entry.Path.TrimEnd('/');
            if (IsOwnMember(member, volumes)) return;
            if (entry.Kind == PaxEntryKind.HardLink)
            {
                var (_, linkPath) = CatalogRestoreIndex.SplitMember(member, volumes);
                map.Skip(member);
                if (entry.LinkTarget is { } t) sink.AddLink(t.TrimEnd('/'), linkPath);
                return;
            }
            var data = entry.Streams.FirstOrDefault(s => s.Storage == TapeStreamStorage.MemberData && s.MemberOffsetBytes == entry.MemberOffsetBytes);
            if (data is { Name.Length: > 0 } && member.EndsWith(":" + data.Name, StringComparison.Ordinal)
                && sink.AddStream(member[..^(data.Name.Length + 1)], Stream(media, archiveFile, data)))
                return;

            var (volume, mapPath) = CatalogRestoreIndex.SplitMember(member, volumes);
            CatalogFile file;
            if (map.Take(member, volume) is { } mapped)
                file = CatalogFile.FromMapEntry(mapped with { Links = [] }, volume) with { Path = mapPath };
            else
            {
                var special = PaxEntryKinds.Special(entry.Kind);
                file = new CatalogFile(entry.Kind switch
                {
                    PaxEntryKind.Directory => CatalogFileKind.Directory,
                    PaxEntryKind.Symlink => CatalogFileKind.Symlink,
                    _ when special is not null => CatalogFileKind.Special,
                    _ => CatalogFileKind.File,
                }, mapPath)
                {
                    Special = special,
                    Device = entry.Device,
                    VolumeIndex = volume,
                    SizeBytes = entry.SizeBytes,
                    Mode = entry.Mode,
                    Uid = entry.Uid,
                    Gid = entry.Gid,
                    Modified = entry.Modified,
                    Target = entry.LinkTarget,
                };
            }
            var streams = new List<CatalogStream>(entry.Streams.Count);
            foreach (var s in entry.Streams)
            {
                var extents = file.Streams.FirstOrDefault(x => x.Name == s.Name)?.Extents ?? [];
                streams.Add(Stream(media, archiveFile, s) with { Extents = extents });
            }
            sink.Add(member, file with { Streams = streams });
        }

        /// <summary>Writes what is still held and the links and streams that reach back to files already written, then
        /// commits; returns how many files and their data bytes (all streams).</summary>
        public (long Files, long DataBytes) Complete()
        {
            sink.Finish();
            writer.Complete();
            return (sink.Files, sink.DataBytes);
        }

        /// <summary>Without <see cref="Complete"/>: rolls back what was not committed.</summary>
        public void Dispose() => writer.Dispose();
    }

    /// <summary>The archive member names of a map entry on <paramref name="volume"/>: its path, then its other names.</summary>
    static string[] MemberNames(MapEntry e, int volume, int volumes)
    {
        var names = new string[1 + e.Links.Count];
        names[0] = CatalogRestoreIndex.MemberName(e.Path, volume, volumes);
        for (int i = 0; i < e.Links.Count; i++) names[i + 1] = CatalogRestoreIndex.MemberName(e.Links[i], volume, volumes);
        return names;
    }

    /// <summary>The entry a member was planned from, when the caller has it: taken only by a member of its own name.</summary>
    sealed class LiveLookup(int volumes) : IMapLookup
    {
        public MapEntry? Current { get; set; }

        public MapEntry? Take(string member, int volume) =>
            Current is { } e && MemberNames(e, volume, volumes).Contains(member) ? e : null;

        public void Skip(string member) { }
    }

    /// <summary>
    /// Writes catalog files as they become complete. The last file is held back while the members that complete it
    /// follow (its alternate data stream members and hard-link names come right after it); a hard link or stream that
    /// names a file already written is applied to its row at the end. Only member names and row ids of written files
    /// are kept.
    /// </summary>
    sealed class FileSink(CatalogFileWriter writer)
    {
        readonly Dictionary<string, (long Id, bool IsFile)> written = new(StringComparer.Ordinal);
        readonly Dictionary<long, List<string>> linksOfWritten = [];
        readonly List<(long FileId, bool IsFile, CatalogStream Stream)> streamsOfWritten = [];
        CatalogFile? held;
        string? heldMember;

        public long Files { get; private set; }
        public long DataBytes { get; private set; }

        public void Add(string member, CatalogFile file)
        {
            Release();
            held = file;
            heldMember = member;
        }

        /// <summary>Adds <paramref name="path"/> as another name of the file of member <paramref name="target"/>, if there is one.</summary>
        public void AddLink(string target, string path)
        {
            if (held is not null && heldMember == target)
            {
                if (!held.Links.Contains(path)) held = held with { Links = [.. held.Links, path] };
            }
            else if (written.TryGetValue(target, out var w))
            {
                long id = w.Id;
                var links = linksOfWritten.TryGetValue(id, out var l) ? l : linksOfWritten[id] = [];
                if (!links.Contains(path)) links.Add(path);
            }
        }

        /// <summary>Adds a stream to the file of member <paramref name="owner"/>; false when no such file was seen.</summary>
        public bool AddStream(string owner, CatalogStream stream)
        {
            if (held is not null && heldMember == owner)
            {
                held = held with { Streams = Merge(held.Streams, stream) };
                return true;
            }
            if (!written.TryGetValue(owner, out var w)) return false;
            streamsOfWritten.Add((w.Id, w.IsFile, stream));
            return true;
        }

        void Release()
        {
            if (held is null) return;
            long id = writer.Add(held);
            written[heldMember!] = (id, held.Kind == CatalogFileKind.File);
            if (held.Links.Count > 0) linksOfWritten[id] = [.. held.Links];
            Files++;
            if (held.Kind == CatalogFileKind.File) DataBytes += held.Streams.Sum(s => s.SizeBytes);
            held = null;
            heldMember = null;
        }

        public void Finish()
        {
            Release();
            foreach (var (id, links) in linksOfWritten) writer.SetLinks(id, links);
            foreach (var (id, isFile, stream) in streamsOfWritten)
            {
                writer.AddStream(id, stream);
                if (isFile) DataBytes += stream.SizeBytes;
            }
        }
    }

    /// <summary>
    /// Reads each volume's stored map alongside the tape index. Entries are taken in the order the index names their
    /// members; an entry passed over on the way (a member the archive does not hold) waits in a small look-aside table,
    /// so a map in another order still matches, at the cost of memory.
    /// </summary>
    sealed class MapCursor : IMapLookup, IDisposable
    {
        readonly IEnumerator<MapEntry>?[] sources;
        readonly int volumes;
        readonly Dictionary<string, MapEntry> passed = new(StringComparer.Ordinal);
        readonly HashSet<string> namesOfTaken = new(StringComparer.Ordinal);

        public MapCursor(IReadOnlyList<IEnumerable<MapEntry>> maps, int volumes)
        {
            this.volumes = volumes;
            sources = maps.Select(m => (IEnumerator<MapEntry>?)m.GetEnumerator()).ToArray();
        }

        /// <summary>The map entry of archive member <paramref name="member"/> on <paramref name="volume"/> (1-based), by its
        /// path or one of its other names; null when the map has none.</summary>
        public MapEntry? Take(string member, int volume)
        {
            if (passed.Remove(member, out var found))
            {
                Forget(found, MemberNames(found, volume, volumes), member);
                return found;
            }
            if (volume < 1 || volume > sources.Length || sources[volume - 1] is not { } source) return null;
            while (source.MoveNext())
            {
                var e = source.Current;
                var names = MemberNames(e, volume, volumes);
                if (names.Contains(member))
                {
                    Forget(e, names, member);
                    return e;
                }
                foreach (string name in names) passed.TryAdd(name, e);
            }
            source.Dispose();
            sources[volume - 1] = null;
            return null;
        }

        /// <summary>A hard-link member: its name is either another name of an entry already taken, or an entry of its own
        /// in the map (a file system listing each name separately), which is taken and dropped to keep the cursor in step.</summary>
        public void Skip(string member)
        {
            if (namesOfTaken.Remove(member)) return;
            var (volume, _) = CatalogRestoreIndex.SplitMember(member, volumes);
            Take(member, volume);
        }

        /// <summary>Drops the other names of a taken entry from the look-aside table and remembers them for <see cref="Skip"/>.</summary>
        void Forget(MapEntry e, string[] names, string takenAs)
        {
            foreach (string name in names)
            {
                if (name == takenAs) continue;
                if (passed.TryGetValue(name, out var p) && ReferenceEquals(p, e)) passed.Remove(name);
                namesOfTaken.Add(name);
            }
        }

        public void Dispose()
        {
            foreach (var s in sources) s?.Dispose();
        }
    }

    static CatalogStream Stream(string media, int archiveFile, TapeIndexStream s) => new(s.Name, s.SizeBytes)
    {
        Location = new TapeLocation(media, archiveFile, s.MemberOffsetBytes, s.DataOffsetBytes),
        XxHash64 = s.XxHash64,
    };

    static IReadOnlyList<CatalogStream> Merge(IReadOnlyList<CatalogStream> streams, CatalogStream added) =>
        [.. streams.Where(s => s.Name != added.Name), added];

}
