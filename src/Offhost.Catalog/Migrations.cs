using Microsoft.Data.Sqlite;

namespace Offhost.Catalog;

/// <summary>
/// The catalog schema as a forward-only list of migrations. <c>PRAGMA user_version</c> holds how many have been
/// applied; each runs in its own transaction together with the version bump, so a crash leaves the schema at a
/// whole version. Never edit a published migration: append a new one.
/// </summary>
internal static class Migrations
{
    internal static readonly string[] Steps =
    [
        // 1: backups, their sources, media and tape files.
        """
        CREATE TABLE backups (
            id TEXT PRIMARY KEY,
            status INTEGER NOT NULL,
            started_at INTEGER NOT NULL,
            finished_at INTEGER,
            frozen_at INTEGER,
            snapshot_provider TEXT,
            bytes INTEGER NOT NULL DEFAULT 0,
            files INTEGER NOT NULL DEFAULT 0,
            error TEXT
        );
        CREATE TABLE backup_sources (
            backup_id TEXT NOT NULL REFERENCES backups(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            path TEXT NOT NULL,
            file_system TEXT NOT NULL,
            PRIMARY KEY (backup_id, idx)
        ) WITHOUT ROWID;
        CREATE TABLE media (
            label TEXT PRIMARY KEY,
            capacity_bytes INTEGER NOT NULL,
            first_used_at INTEGER
        );
        CREATE TABLE tape_files (
            media_label TEXT NOT NULL REFERENCES media(label) ON DELETE CASCADE,
            file_number INTEGER NOT NULL,
            kind INTEGER NOT NULL,
            records INTEGER NOT NULL,
            bytes INTEGER NOT NULL,
            backup_id TEXT REFERENCES backups(id) ON DELETE SET NULL,
            PRIMARY KEY (media_label, file_number)
        );
        CREATE INDEX tape_files_by_backup ON tape_files(backup_id);
        """,
        // 2: every file with its metadata, streams, tape location, checksum and source extents.
        """
        CREATE TABLE files (
            id INTEGER PRIMARY KEY,
            backup_id TEXT NOT NULL REFERENCES backups(id) ON DELETE CASCADE,
            volume_index INTEGER NOT NULL,
            path TEXT NOT NULL,
            kind INTEGER NOT NULL,
            size_bytes INTEGER NOT NULL,
            mode INTEGER, uid INTEGER, gid INTEGER,
            attributes BLOB, links BLOB,
            created_s INTEGER, created_ns INTEGER,
            modified_s INTEGER, modified_ns INTEGER,
            changed_s INTEGER, changed_ns INTEGER,
            accessed_s INTEGER, accessed_ns INTEGER,
            target TEXT, link_kind TEXT,
            xattrs BLOB,
            error TEXT
        );
        CREATE INDEX files_by_path ON files(backup_id, path);
        CREATE TABLE streams (
            file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            name TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            media_label TEXT,
            tape_file INTEGER,
            header_offset INTEGER,
            data_offset INTEGER,
            xxhash64 INTEGER,
            extents BLOB,
            PRIMARY KEY (file_id, idx)
        ) WITHOUT ROWID;
        """,
        // 3: the owning process (stale "running" detection) and remap bookkeeping.
        """
        ALTER TABLE backups ADD COLUMN owner_pid INTEGER;
        ALTER TABLE backups ADD COLUMN owner_start_ticks INTEGER;
        ALTER TABLE backups ADD COLUMN owner_boot_id TEXT;
        ALTER TABLE backups ADD COLUMN remapped INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE backups ADD COLUMN remap_details TEXT;
        CREATE INDEX backups_by_status ON backups(status);
        """,
        // 4: where a medium was last seen, file-set sources, and the last verification of a backup.
        """
        ALTER TABLE media ADD COLUMN location TEXT;
        ALTER TABLE backup_sources ADD COLUMN file_set BLOB;
        ALTER TABLE backups ADD COLUMN verified_at INTEGER;
        ALTER TABLE backups ADD COLUMN verify_ok INTEGER;
        """,
        // 5: special files (kind 3) say which kind ('fifo', 'chardev', 'blockdev', 'socket') and, for devices, their number.
        """
        ALTER TABLE files ADD COLUMN special TEXT;
        ALTER TABLE files ADD COLUMN rdev_major INTEGER;
        ALTER TABLE files ADD COLUMN rdev_minor INTEGER;
        """,
    ];

    internal static int Latest => Steps.Length;

    internal static int CurrentVersion(SqliteConnection c)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA user_version";
        return Convert.ToInt32(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Applies migrations until the schema is at <paramref name="target"/> (default: latest).</summary>
    internal static void Apply(SqliteConnection c, int? target = null)
    {
        int to = target ?? Latest;
        int from = CurrentVersion(c);
        if (from > Latest)
            throw new Core.Errors.UserFacingException(
                $"catalog {c.DataSource} has schema version {from}, newer than this program understands ({Latest}); upgrade offhost");
        for (int v = from; v < to; v++)
        {
            using var tx = c.BeginTransaction();
            using (var cmd = c.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText = Steps[v] + $"\nPRAGMA user_version = {v + 1};";
                cmd.ExecuteNonQuery();
            }
            tx.Commit();
        }
    }
}
