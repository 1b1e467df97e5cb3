using Microsoft.Data.Sqlite;
using Offhost.Core.Mapping;

namespace Offhost.Catalog;

/// <summary>
/// Inserts the files of one backup with prepared commands, committing every <c>filesPerTransaction</c> files so
/// the WAL stays bounded. <see cref="Complete"/> commits the rest; disposing without it rolls back the files
/// since the last commit (the backup stays running and is failed as interrupted if its process is gone).
/// Not thread-safe.
/// </summary>
public sealed class CatalogFileWriter : IDisposable
{
    public const int DefaultFilesPerTransaction = 50_000;

    readonly Catalog _catalog;
    readonly string _backupId;
    readonly int _filesPerTransaction;
    readonly SqliteCommand _insertFile;
    readonly SqliteCommand _insertStream;
    readonly SqliteParameter[] _f;
    readonly SqliteParameter[] _s;
    readonly SqliteCommand _maxId;
    readonly SqliteCommand _setLinks;
    readonly SqliteCommand _streamCount;
    long _nextId;
    int _inTransaction;
    bool _done;

    internal CatalogFileWriter(Catalog catalog, SqliteConnection db, string backupId, int filesPerTransaction)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(filesPerTransaction, 1);
        _catalog = catalog;
        _backupId = backupId;
        _filesPerTransaction = filesPerTransaction;
        _insertFile = db.CreateCommand();
        _insertFile.CommandText = """
            INSERT INTO files (backup_id, volume_index, path, kind, size_bytes, mode, uid, gid, attributes, links,
                created_s, created_ns, modified_s, modified_ns, changed_s, changed_ns, accessed_s, accessed_ns,
                target, link_kind, xattrs, error, id, special, rdev_major, rdev_minor)
            VALUES ($p0, $p1, $p2, $p3, $p4, $p5, $p6, $p7, $p8, $p9, $p10, $p11, $p12, $p13, $p14, $p15, $p16, $p17,
                $p18, $p19, $p20, $p21, $p22, $p23, $p24, $p25)
            """;
        _maxId = db.CreateCommand();
        _maxId.CommandText = "SELECT coalesce(max(id), 0) FROM files";
        _f = Enumerable.Range(0, 26).Select(i => _insertFile.Parameters.Add(new SqliteParameter($"$p{i}", null))).ToArray();
        _insertStream = db.CreateCommand();
        _insertStream.CommandText = """
            INSERT INTO streams (file_id, idx, name, size_bytes, media_label, tape_file, header_offset, data_offset, xxhash64, extents)
            VALUES ($s0, $s1, $s2, $s3, $s4, $s5, $s6, $s7, $s8, $s9)
            """;
        _s = Enumerable.Range(0, 10).Select(i => _insertStream.Parameters.Add(new SqliteParameter($"$s{i}", null))).ToArray();
        _setLinks = db.CreateCommand();
        _setLinks.CommandText = "UPDATE files SET links = $links WHERE id = $id AND backup_id = $backup";
        _setLinks.Parameters.Add(new SqliteParameter("$links", null));
        _setLinks.Parameters.Add(new SqliteParameter("$id", null));
        _setLinks.Parameters.Add(new SqliteParameter("$backup", backupId));
        _streamCount = db.CreateCommand();
        _streamCount.CommandText = "SELECT count(*) FROM streams WHERE file_id = $id";
        _streamCount.Parameters.Add(new SqliteParameter("$id", null));
    }

    public long FilesWritten { get; private set; }

    /// <summary>Inserts one file and its streams; returns the file's row id.</summary>
    public long Add(CatalogFile file)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        EnsureTransaction();
        Set(_f[0], _backupId);
        Set(_f[1], file.VolumeIndex);
        Set(_f[2], file.Path);
        Set(_f[3], (int)file.Kind);
        Set(_f[4], file.SizeBytes);
        Set(_f[5], file.Mode);
        Set(_f[6], file.Uid);
        Set(_f[7], file.Gid);
        Set(_f[8], file.Attributes.Count == 0 ? null : CatalogBlob.EncodeStrings(file.Attributes));
        Set(_f[9], file.Links.Count == 0 ? null : CatalogBlob.EncodeStrings(file.Links));
        SetTime(10, file.Created);
        SetTime(12, file.Modified);
        SetTime(14, file.Changed);
        SetTime(16, file.Accessed);
        Set(_f[18], file.Target);
        Set(_f[19], file.LinkKind);
        Set(_f[20], file.Xattrs.Count == 0 ? null : CatalogBlob.EncodeXattrs(file.Xattrs));
        Set(_f[21], file.Error);
        long id = _nextId++;
        Set(_f[22], id);
        Set(_f[23], file.Special is { } special ? SpecialFiles.Name(special) : null);
        Set(_f[24], file.Device?.Major);
        Set(_f[25], file.Device?.Minor);
        _insertFile.ExecuteNonQuery();

        for (int i = 0; i < file.Streams.Count; i++) InsertStream(id, i, file.Streams[i]);

        FilesWritten++;
        if (++_inTransaction >= _filesPerTransaction) Flush();
        return id;
    }

    /// <summary>Replaces the other names (hard links) of a file this writer added earlier.</summary>
    public void SetLinks(long fileId, IReadOnlyList<string> links)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        ArgumentNullException.ThrowIfNull(links);
        EnsureTransaction();
        Set(_setLinks.Parameters[0], links.Count == 0 ? null : CatalogBlob.EncodeStrings(links));
        Set(_setLinks.Parameters[1], fileId);
        if (_setLinks.ExecuteNonQuery() != 1) throw new InvalidOperationException($"file {fileId} is not a file of backup {_backupId}");
    }

    /// <summary>Adds a stream after the streams of a file this writer added earlier.</summary>
    public void AddStream(long fileId, CatalogStream stream)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        ArgumentNullException.ThrowIfNull(stream);
        EnsureTransaction();
        Set(_streamCount.Parameters[0], fileId);
        InsertStream(fileId, checked((int)(long)_streamCount.ExecuteScalar()!), stream);
    }

    void InsertStream(long fileId, int index, CatalogStream s)
    {
        Set(_s[0], fileId);
        Set(_s[1], index);
        Set(_s[2], s.Name);
        Set(_s[3], s.SizeBytes);
        Set(_s[4], s.Location?.MediaLabel);
        Set(_s[5], s.Location?.FileNumber);
        Set(_s[6], s.Location?.HeaderOffsetBytes);
        Set(_s[7], s.Location?.DataOffsetBytes);
        Set(_s[8], s.XxHash64 is { } h ? unchecked((long)h) : null);
        Set(_s[9], s.Extents.Count == 0 ? null : CatalogBlob.EncodeExtents(s.Extents));
        _insertStream.ExecuteNonQuery();
    }

    void EnsureTransaction()
    {
        if (_catalog.InWriterTransaction) return;
        var tx = _catalog.BeginWriterTransaction();
        foreach (var c in new[] { _insertFile, _insertStream, _maxId, _setLinks, _streamCount }) c.Transaction = tx;
        // Ids are assigned here rather than read back per row: the write transaction (BEGIN IMMEDIATE) keeps
        // other writers out until commit, so max(id) cannot move under us.
        _nextId = (long)_maxId.ExecuteScalar()! + 1;
    }

    /// <summary>Commits the files added so far.</summary>
    public void Flush()
    {
        if (!_catalog.InWriterTransaction) return;
        _catalog.EndWriterTransaction(commit: true);
        _inTransaction = 0;
    }

    /// <summary>Commits the remaining files and closes the writer.</summary>
    public void Complete()
    {
        Flush();
        Dispose();
    }

    void SetTime(int index, Core.Mapping.MapTime? t)
    {
        Set(_f[index], t?.UnixSeconds);
        Set(_f[index + 1], t?.Nanoseconds);
    }

    static void Set(SqliteParameter p, object? value) => p.Value = value ?? DBNull.Value;

    public void Dispose()
    {
        if (_done) return;
        _done = true;
        if (_catalog.InWriterTransaction) _catalog.EndWriterTransaction(commit: false);
        _inTransaction = 0;
        _insertFile.Dispose();
        _insertStream.Dispose();
        _maxId.Dispose();
        _setLinks.Dispose();
        _streamCount.Dispose();
    }
}
