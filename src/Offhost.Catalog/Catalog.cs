using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;

namespace Offhost.Catalog;

/// <summary>
/// The backup catalog: one SQLite database (WAL journal, foreign keys on, synchronous=FULL) holding backups,
/// media, tape files and every file with its streams. One instance owns one connection and is not thread-safe;
/// several processes may open the same catalog (SQLite locking, 10 s busy timeout).
/// </summary>
public sealed class Catalog : IDisposable
{
    readonly SqliteConnection _db;
    SqliteTransaction? _tx;

    Catalog(SqliteConnection db, string path)
    {
        _db = db;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Backups found "running" at open whose process was gone; they are now <see cref="BackupStatus.Failed"/>.</summary>
    public IReadOnlyList<BackupRecord> Interrupted { get; private set; } = [];

    /// <summary>Opens (creating if needed) the catalog at <paramref name="path"/> or <see cref="CatalogLocation.DefaultPath"/>,
    /// migrates its schema to the latest version and fails stale "running" backups.</summary>
    public static Catalog Open(string? path = null)
    {
        path ??= CatalogLocation.DefaultPath();
        string? dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var db = OpenConnection(path);
        try
        {
            Migrations.Apply(db);
            var c = new Catalog(db, path);
            c.Interrupted = c.FailStaleBackups();
            return c;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    internal static SqliteConnection OpenConnection(string path)
    {
        var csb = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            ForeignKeys = true,
            Pooling = false,
            DefaultTimeout = 10,
        };
        var db = new SqliteConnection(csb.ToString());
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;";
        cmd.ExecuteNonQuery();
        return db;
    }

    internal int SchemaVersion => Migrations.CurrentVersion(_db);

    // ---- backups -------------------------------------------------------------------------------------------

    /// <summary>The catalog id of a backup: <c>yyyyMMddTHHmmssZ-xxxxxxxx</c>, its time and the first 8 hex digits of the
    /// tape index's backup UUID, so a catalog rebuilt from the tape gives the backup the same id.</summary>
    public static string BackupIdFor(DateTimeOffset at, Guid backupUuid) =>
        at.ToUniversalTime().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + "-" + backupUuid.ToString("N")[..8];

    /// <summary>Starts a backup: status running, owned by this process. <paramref name="id"/> defaults to a new random id
    /// at <paramref name="startedAt"/> (see <see cref="BackupIdFor"/>).</summary>
    public BackupRecord BeginBackup(IReadOnlyList<BackupSource> sources, string? snapshotProvider = null, DateTimeOffset? startedAt = null, string? id = null)
    {
        if (sources.Count == 0) throw new ArgumentException("a backup needs at least one source", nameof(sources));
        var started = (startedAt ?? DateTimeOffset.UtcNow).ToUniversalTime();
        id ??= started.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + "-"
            + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var owner = ProcessIdentity.Current();
        InTransaction(() =>
        {
            Exec("""
                INSERT INTO backups (id, status, started_at, snapshot_provider, owner_pid, owner_start_ticks, owner_boot_id)
                VALUES ($id, $status, $started, $provider, $pid, $start, $boot)
                """,
                ("$id", id), ("$status", (int)BackupStatus.Running), ("$started", started.UtcTicks),
                ("$provider", snapshotProvider), ("$pid", owner.Pid), ("$start", owner.StartTicks), ("$boot", owner.BootId));
            for (int i = 0; i < sources.Count; i++)
                Exec("INSERT INTO backup_sources (backup_id, idx, path, file_system, file_set) VALUES ($id, $i, $p, $fs, $set)",
                    ("$id", id), ("$i", i), ("$p", sources[i].Path), ("$fs", sources[i].FileSystem),
                    ("$set", sources[i].FileSet is { } set ? CatalogBlob.EncodeStrings(set) : null));
        });
        return GetBackup(id)!;
    }

    public void SetFrozenImage(string backupId, DateTimeOffset frozenAt, string provider) =>
        UpdateRunning(backupId, "frozen_at = $t, snapshot_provider = $p", ("$t", frozenAt.UtcTicks), ("$p", provider));

    public void SetTotals(string backupId, long bytes, long files) =>
        UpdateRunning(backupId, "bytes = $b, files = $f", ("$b", bytes), ("$f", files));

    public void RecordRemap(string backupId, string details) =>
        UpdateRunning(backupId, "remapped = 1, remap_details = coalesce(remap_details || char(10), '') || $d", ("$d", details));

    /// <summary>
    /// Marks a running backup good. Refused unless the catalog records both an archive and an index tape file
    /// for it: a backup is good only when its data and its index are on tape.
    /// </summary>
    public void MarkGood(string backupId)
    {
        InTransaction(() =>
        {
            var b = GetBackup(backupId) ?? throw new UserFacingException($"no backup {backupId} in the catalog");
            if (b.Status != BackupStatus.Running)
                throw new InvalidOperationException($"backup {backupId} is {b.Status}, not running; only a running backup can become good");
            long archives = Scalar("SELECT count(*) FROM tape_files WHERE backup_id = $id AND kind = $k", ("$id", backupId), ("$k", (int)TapeFileKind.Archive));
            long indexes = Scalar("SELECT count(*) FROM tape_files WHERE backup_id = $id AND kind = $k", ("$id", backupId), ("$k", (int)TapeFileKind.Index));
            if (archives == 0 || indexes == 0)
                throw new InvalidOperationException(
                    $"backup {backupId} cannot be marked good: {archives} archive and {indexes} index tape files recorded; both must be on tape");
            Exec("UPDATE backups SET status = $s, finished_at = $t, error = NULL WHERE id = $id",
                ("$s", (int)BackupStatus.Good), ("$t", DateTimeOffset.UtcNow.UtcTicks), ("$id", backupId));
        });
    }

    /// <summary>Ends a running backup as <see cref="BackupStatus.Failed"/> or <see cref="BackupStatus.Incomplete"/>.</summary>
    public void MarkFailed(string backupId, string error, BackupStatus status = BackupStatus.Failed)
    {
        if (status is not (BackupStatus.Failed or BackupStatus.Incomplete))
            throw new ArgumentOutOfRangeException(nameof(status), status, "only Failed or Incomplete");
        UpdateRunning(backupId, "status = $s, finished_at = $t, error = $e",
            ("$s", (int)status), ("$t", DateTimeOffset.UtcNow.UtcTicks), ("$e", error));
    }

    public BackupRecord? GetBackup(string backupId) =>
        QueryBackups("WHERE id = $id", ("$id", backupId)).FirstOrDefault();

    /// <summary>The backup a user named: its full id, a unique prefix of it, or <c>latest</c> (the newest good backup).</summary>
    /// <exception cref="UserFacingException">No backup, or several, answer to <paramref name="name"/>.</exception>
    public BackupRecord FindBackup(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name == "latest")
            return QueryBackups("WHERE status = $s", ("$s", (int)BackupStatus.Good)).LastOrDefault()
                ?? throw new UserFacingException($"catalog {Path} holds no good backup", 2);
        if (GetBackup(name) is { } exact) return exact;
        var ids = new List<string>();
        using (var cmd = Command("SELECT id FROM backups WHERE id >= $lo AND id < $hi ORDER BY id LIMIT 6", ("$lo", name), ("$hi", name + "\uffff")))
        using (var r = cmd.ExecuteReader())
            while (r.Read()) ids.Add(r.GetString(0));
        return ids.Count switch
        {
            1 => GetBackup(ids[0])!,
            0 => throw new UserFacingException($"no backup {name} in catalog {Path} (see 'offhost backups')", 2),
            _ => throw new UserFacingException($"'{name}' names several backups ({string.Join(", ", ids.Take(5))}{(ids.Count > 5 ? ", …" : "")}); give more of the id", 2),
        };
    }

    /// <summary>Records that a backup was read back and checked (any status but running).</summary>
    public void RecordVerification(string backupId, DateTimeOffset at, bool ok) =>
        Exec("UPDATE backups SET verified_at = $t, verify_ok = $ok WHERE id = $id", ("$t", at.UtcTicks), ("$ok", ok ? 1 : 0), ("$id", backupId));

    /// <summary>All backups, oldest first.</summary>
    public IReadOnlyList<BackupRecord> ListBackups() => QueryBackups("").ToList();

    /// <summary>Deletes a backup with its files and streams; its tape files stay (their data is still on tape) but lose the link.</summary>
    public bool DeleteBackup(string backupId)
    {
        bool deleted = false;
        InTransaction(() => deleted = Exec("DELETE FROM backups WHERE id = $id", ("$id", backupId)) > 0);
        return deleted;
    }

    // ---- media ---------------------------------------------------------------------------------------------

    public void AddMedia(MediaRecord media) =>
        Exec("INSERT INTO media (label, capacity_bytes, first_used_at, location) VALUES ($l, $c, $t, $loc)",
            ("$l", media.Label), ("$c", media.CapacityBytes), ("$t", media.FirstUsedAt?.UtcTicks), ("$loc", media.Location));

    /// <summary>Notes where a medium is now (see <see cref="MediaRecord.Location"/>).</summary>
    public void SetMediaLocation(string label, string location) =>
        Exec("UPDATE media SET location = $loc WHERE label = $l", ("$loc", location), ("$l", label));

    public MediaRecord? GetMedia(string label)
    {
        using var cmd = Command("SELECT label, capacity_bytes, first_used_at, location FROM media WHERE label = $l", ("$l", label));
        using var r = cmd.ExecuteReader();
        if (!r.Read()) return null;
        return new MediaRecord(r.GetString(0), r.GetInt64(1))
        {
            FirstUsedAt = r.IsDBNull(2) ? null : FromTicks(r.GetInt64(2)),
            Location = r.IsDBNull(3) ? null : r.GetString(3),
        };
    }

    /// <summary>Records a tape file; replaces an earlier record with the same number (the tape was overwritten from there).</summary>
    public void AddTapeFile(TapeFileRecord f) =>
        Exec("""
            INSERT OR REPLACE INTO tape_files (media_label, file_number, kind, records, bytes, backup_id)
            VALUES ($l, $n, $k, $r, $b, $id)
            """,
            ("$l", f.MediaLabel), ("$n", f.FileNumber), ("$k", (int)f.Kind), ("$r", f.Records), ("$b", f.Bytes), ("$id", f.BackupId));

    /// <summary>The tape files holding a backup (archive and index), in tape order.</summary>
    public IReadOnlyList<TapeFileRecord> TapeFilesOf(string backupId)
    {
        using var cmd = Command("""
            SELECT media_label, file_number, kind, records, bytes, backup_id FROM tape_files
            WHERE backup_id = $id ORDER BY media_label, file_number
            """, ("$id", backupId));
        using var r = cmd.ExecuteReader();
        var list = new List<TapeFileRecord>();
        while (r.Read())
            list.Add(new TapeFileRecord(r.GetString(0), r.GetInt32(1), (TapeFileKind)r.GetInt32(2), r.GetInt64(3), r.GetInt64(4), r.GetString(5)));
        return list;
    }

    public IReadOnlyList<TapeFileRecord> ListTapeFiles(string mediaLabel)
    {
        using var cmd = Command("""
            SELECT media_label, file_number, kind, records, bytes, backup_id FROM tape_files
            WHERE media_label = $l ORDER BY file_number
            """, ("$l", mediaLabel));
        using var r = cmd.ExecuteReader();
        var list = new List<TapeFileRecord>();
        while (r.Read())
            list.Add(new TapeFileRecord(r.GetString(0), r.GetInt32(1), (TapeFileKind)r.GetInt32(2), r.GetInt64(3), r.GetInt64(4),
                r.IsDBNull(5) ? null : r.GetString(5)));
        return list;
    }

    // ---- files ---------------------------------------------------------------------------------------------

    /// <summary>Opens a batched writer for the files of a running backup. While it is open, use this catalog only through it.</summary>
    public CatalogFileWriter BeginFiles(string backupId, int filesPerTransaction = CatalogFileWriter.DefaultFilesPerTransaction)
    {
        var b = GetBackup(backupId) ?? throw new UserFacingException($"no backup {backupId} in the catalog");
        if (b.Status != BackupStatus.Running) throw new InvalidOperationException($"backup {backupId} is {b.Status}, not running");
        if (_tx is not null) throw new InvalidOperationException("a transaction is already open on this catalog");
        return new CatalogFileWriter(this, _db, backupId, filesPerTransaction);
    }

    internal SqliteTransaction BeginWriterTransaction()
    {
        // IMMEDIATE: take the write lock now, so ids read from max(id) stay ours until commit.
        _tx = _db.BeginTransaction(deferred: false);
        return _tx;
    }

    internal bool InWriterTransaction => _tx is not null;

    internal void EndWriterTransaction(bool commit)
    {
        if (_tx is null) return;
        try
        {
            if (commit) _tx.Commit(); else _tx.Rollback();
        }
        finally
        {
            _tx.Dispose();
            _tx = null;
        }
    }

    const string FileColumns = """
        id, kind, path, volume_index, size_bytes, mode, uid, gid, attributes, links,
        created_s, created_ns, modified_s, modified_ns, changed_s, changed_ns, accessed_s, accessed_ns,
        target, link_kind, xattrs, error, special, rdev_major, rdev_minor
        """;

    /// <summary>
    /// Files of a backup whose path matches <paramref name="pattern"/> (see <see cref="GlobPattern"/>), in path order,
    /// read lazily row by row (memory does not grow with the number of files). Streams are not loaded.
    /// </summary>
    public IEnumerable<CatalogFile> FindFiles(string backupId, string pattern, CancellationToken cancellationToken = default)
    {
        var glob = new GlobPattern(pattern);
        return FindFiles(backupId, glob, cancellationToken);
    }

    IEnumerable<CatalogFile> FindFiles(string backupId, GlobPattern glob, CancellationToken ct)
    {
        string prefix = glob.LiteralPrefix;
        string where = prefix.Length == 0
            ? "WHERE backup_id = $id"
            // Binary collation: every string starting with prefix sorts in [prefix, prefix + U+10FFFF).
            : "WHERE backup_id = $id AND path >= $lo AND path < $hi";
        using var cmd = Command($"SELECT {FileColumns} FROM files {where} ORDER BY path",
            ("$id", backupId), ("$lo", prefix), ("$hi", prefix + char.ConvertFromUtf32(0x10FFFF)));
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            ct.ThrowIfCancellationRequested();
            string path = r.GetString(2);
            if (glob.IsMatch(path)) yield return ReadFile(r);
        }
    }

    /// <summary>One file of a backup by exact path (primary name), with its streams; null if absent.</summary>
    public CatalogFile? GetFile(string backupId, string path)
    {
        CatalogFile? f;
        using (var cmd = Command($"SELECT {FileColumns} FROM files WHERE backup_id = $id AND path = $p LIMIT 1", ("$id", backupId), ("$p", path)))
        using (var r = cmd.ExecuteReader())
            f = r.Read() ? ReadFile(r) : null;
        return f is null ? null : f with { Streams = ReadStreams(f.Id) };
    }

    public long CountFiles(string backupId) => Scalar("SELECT count(*) FROM files WHERE backup_id = $id", ("$id", backupId));

    const string StreamColumns = "name, size_bytes, media_label, tape_file, header_offset, data_offset, xxhash64, extents";
    static readonly string StreamColumnsOfS = string.Join(", ", StreamColumns.Split(", ").Select(c => "s." + c));

    IReadOnlyList<CatalogStream> ReadStreams(long fileId)
    {
        using var cmd = Command($"SELECT {StreamColumns} FROM streams WHERE file_id = $f ORDER BY idx", ("$f", fileId));
        using var r = cmd.ExecuteReader();
        var list = new List<CatalogStream>();
        while (r.Read()) list.Add(ReadStream(r, 0, fileId));
        return list;
    }

    /// <summary>Every file of a backup with its streams, in path order: one query for the files and one for all their
    /// streams, instead of two per file (a restore of a 34,000-file backup spent seconds in per-file queries). Streams are
    /// held in memory per file until their file is read.</summary>
    public IEnumerable<CatalogFile> FilesWithStreams(string backupId, CancellationToken cancellationToken = default)
    {
        var streams = new Dictionary<long, List<CatalogStream>>();
        using (var cmd = Command($"""
            SELECT s.file_id, {StreamColumnsOfS}
            FROM streams s JOIN files f ON f.id = s.file_id
            WHERE f.backup_id = $id ORDER BY s.file_id, s.idx
            """, ("$id", backupId)))
        using (var r = cmd.ExecuteReader())
        {
            while (r.Read())
            {
                cancellationToken.ThrowIfCancellationRequested();
                long fileId = r.GetInt64(0);
                if (!streams.TryGetValue(fileId, out var list)) streams[fileId] = list = [];
                list.Add(ReadStream(r, 1, fileId));
            }
        }
        foreach (var f in FindFiles(backupId, new GlobPattern("**"), cancellationToken))
            yield return streams.Remove(f.Id, out var list) ? f with { Streams = list } : f;
    }

    /// <summary>A stream row whose <see cref="StreamColumns"/> start at column <paramref name="at"/>.</summary>
    static CatalogStream ReadStream(SqliteDataReader r, int at, long fileId) =>
        new(r.GetString(at), r.GetInt64(at + 1))
        {
            Location = r.IsDBNull(at + 2) ? null : new TapeLocation(r.GetString(at + 2), r.GetInt32(at + 3), r.GetInt64(at + 4), r.GetInt64(at + 5)),
            XxHash64 = r.IsDBNull(at + 6) ? null : unchecked((ulong)r.GetInt64(at + 6)),
            Extents = r.IsDBNull(at + 7) ? [] : CatalogBlob.DecodeExtents((byte[])r[at + 7], $"extent list of stream '{r.GetString(at)}' of file {fileId}"),
        };

    static CatalogFile ReadFile(SqliteDataReader r)
    {
        long id = r.GetInt64(0);
        return new CatalogFile((CatalogFileKind)r.GetInt32(1), r.GetString(2))
        {
            Id = id,
            VolumeIndex = r.GetInt32(3),
            SizeBytes = r.GetInt64(4),
            Mode = r.IsDBNull(5) ? null : (uint)r.GetInt64(5),
            Uid = r.IsDBNull(6) ? null : (uint)r.GetInt64(6),
            Gid = r.IsDBNull(7) ? null : (uint)r.GetInt64(7),
            Attributes = r.IsDBNull(8) ? [] : CatalogBlob.DecodeStrings((byte[])r[8], $"attributes of file {id}"),
            Links = r.IsDBNull(9) ? [] : CatalogBlob.DecodeStrings((byte[])r[9], $"links of file {id}"),
            Created = Time(r, 10),
            Modified = Time(r, 12),
            Changed = Time(r, 14),
            Accessed = Time(r, 16),
            Target = r.IsDBNull(18) ? null : r.GetString(18),
            LinkKind = r.IsDBNull(19) ? null : r.GetString(19),
            Xattrs = r.IsDBNull(20) ? new Dictionary<string, byte[]>() : CatalogBlob.DecodeXattrs((byte[])r[20], $"xattrs of file {id}"),
            Error = r.IsDBNull(21) ? null : r.GetString(21),
            Special = r.IsDBNull(22) ? null : SpecialFiles.Parse(r.GetString(22)),
            Device = r.IsDBNull(23) || r.IsDBNull(24) ? null : new DeviceNumber((uint)r.GetInt64(23), (uint)r.GetInt64(24)),
        };
    }

    static MapTime? Time(SqliteDataReader r, int col) =>
        r.IsDBNull(col) ? null : new MapTime(r.GetInt64(col), r.GetInt32(col + 1));

    // ---- stale backups -------------------------------------------------------------------------------------

    IReadOnlyList<BackupRecord> FailStaleBackups()
    {
        var stale = new List<BackupRecord>();
        foreach (var b in QueryBackups("WHERE status = $s", ("$s", (int)BackupStatus.Running)).ToList())
        {
            if (b.Owner is { } o && o.IsAlive()) continue;
            string who = b.Owner is { } w ? $"process {w.Pid}" : "an unknown process";
            string error = $"interrupted: {who} ended without finishing the backup (found at catalog open {DateTimeOffset.UtcNow:yyyy-MM-dd'T'HH:mm:ss'Z'})";
            int n = Exec("UPDATE backups SET status = $f, error = $e, finished_at = $t WHERE id = $id AND status = $r",
                ("$f", (int)BackupStatus.Failed), ("$e", error), ("$t", DateTimeOffset.UtcNow.UtcTicks), ("$id", b.Id), ("$r", (int)BackupStatus.Running));
            if (n > 0) stale.Add(GetBackup(b.Id)!);
        }
        return stale;
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    IEnumerable<BackupRecord> QueryBackups(string where, params (string, object?)[] args)
    {
        var rows = new List<BackupRecord>();
        using (var cmd = Command($"""
            SELECT id, status, started_at, finished_at, frozen_at, snapshot_provider, bytes, files, error,
                   owner_pid, owner_start_ticks, owner_boot_id, remapped, remap_details, verified_at, verify_ok
            FROM backups {where} ORDER BY id
            """, args))
        using (var r = cmd.ExecuteReader())
        {
            while (r.Read())
            {
                rows.Add(new BackupRecord
                {
                    Id = r.GetString(0),
                    Status = (BackupStatus)r.GetInt32(1),
                    StartedAt = FromTicks(r.GetInt64(2)),
                    FinishedAt = r.IsDBNull(3) ? null : FromTicks(r.GetInt64(3)),
                    FrozenImageAt = r.IsDBNull(4) ? null : FromTicks(r.GetInt64(4)),
                    SnapshotProvider = r.IsDBNull(5) ? null : r.GetString(5),
                    Bytes = r.GetInt64(6),
                    Files = r.GetInt64(7),
                    Error = r.IsDBNull(8) ? null : r.GetString(8),
                    Owner = r.IsDBNull(9) ? null : new ProcessIdentity(r.GetInt32(9), r.IsDBNull(10) ? 0 : r.GetInt64(10), r.IsDBNull(11) ? "" : r.GetString(11)),
                    Remapped = r.GetInt64(12) != 0,
                    RemapDetails = r.IsDBNull(13) ? null : r.GetString(13),
                    VerifiedAt = r.IsDBNull(14) ? null : FromTicks(r.GetInt64(14)),
                    VerifyOk = r.IsDBNull(15) ? null : r.GetInt64(15) != 0,
                    Sources = [],
                });
            }
        }
        foreach (var b in rows)
        {
            using var cmd = Command("SELECT path, file_system, file_set FROM backup_sources WHERE backup_id = $id ORDER BY idx", ("$id", b.Id));
            using var r = cmd.ExecuteReader();
            var sources = new List<BackupSource>();
            while (r.Read())
                sources.Add(new BackupSource(r.GetString(0), r.GetString(1))
                {
                    FileSet = r.IsDBNull(2) ? null : CatalogBlob.DecodeStrings((byte[])r[2], $"file set of backup {b.Id}"),
                });
            yield return b with { Sources = sources };
        }
    }

    void UpdateRunning(string backupId, string set, params (string, object?)[] args)
    {
        int n = Exec($"UPDATE backups SET {set} WHERE id = $id AND status = {(int)BackupStatus.Running}",
            [.. args, ("$id", backupId)]);
        if (n == 0)
        {
            var b = GetBackup(backupId) ?? throw new UserFacingException($"no backup {backupId} in the catalog");
            throw new InvalidOperationException($"backup {backupId} is {b.Status}, not running");
        }
    }

    void InTransaction(Action body)
    {
        if (_tx is not null) { body(); return; }
        _tx = _db.BeginTransaction();
        try
        {
            body();
            _tx.Commit();
        }
        finally
        {
            _tx.Dispose();
            _tx = null;
        }
    }

    internal SqliteCommand Command(string sql, params (string Name, object? Value)[] args)
    {
        var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = _tx;
        foreach (var (name, value) in args) cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    int Exec(string sql, params (string, object?)[] args)
    {
        using var cmd = Command(sql, args);
        return cmd.ExecuteNonQuery();
    }

    long Scalar(string sql, params (string, object?)[] args)
    {
        using var cmd = Command(sql, args);
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    static DateTimeOffset FromTicks(long utcTicks) => new(utcTicks, TimeSpan.Zero);

    public void Dispose()
    {
        EndWriterTransaction(commit: false);
        _db.Dispose();
    }
}
