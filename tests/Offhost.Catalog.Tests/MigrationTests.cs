using Microsoft.Data.Sqlite;
using Offhost.Core.Errors;
using Offhost.Testing;

namespace Offhost.Catalog.Tests;

public class MigrationTests
{
    [Fact]
    public void Empty_database_migrates_to_latest()
    {
        using var s = new Scratch("migrate");
        using (var c = Catalog.Open(s["c.db"])) Assert.Equal(Migrations.Latest, c.SchemaVersion);
        // Opening again applies nothing and keeps working.
        using var again = Catalog.Open(s["c.db"]);
        Assert.Equal(Migrations.Latest, again.SchemaVersion);
    }

    public static TheoryData<int> EarlierVersions() => new(Enumerable.Range(1, Migrations.Latest - 1));

    [Theory]
    [MemberData(nameof(EarlierVersions))]
    public void Each_earlier_version_migrates_with_its_data(int version)
    {
        using var s = new Scratch("migrate");
        using (var db = Catalog.OpenConnection(s["c.db"]))
        {
            Migrations.Apply(db, version);
            Assert.Equal(version, Migrations.CurrentVersion(db));
            Exec(db, "INSERT INTO backups (id, status, started_at) VALUES ('20250101T000000Z-00000001', 1, 0)");
            Exec(db, "INSERT INTO backups (id, status, started_at) VALUES ('20250101T000000Z-00000002', 0, 0)");
            Exec(db, "INSERT INTO backup_sources (backup_id, idx, path, file_system) VALUES ('20250101T000000Z-00000001', 0, '/dev/sda1', 'ntfs')");
            if (version >= 2)
                Exec(db, "INSERT INTO files (backup_id, volume_index, path, kind, size_bytes) VALUES ('20250101T000000Z-00000001', 0, '/a', 0, 5)");
        }
        using var c = Catalog.Open(s["c.db"]);
        Assert.Equal(Migrations.Latest, c.SchemaVersion);
        var good = c.GetBackup("20250101T000000Z-00000001")!;
        Assert.Equal(BackupStatus.Good, good.Status);
        Assert.Equal("/dev/sda1", Assert.Single(good.Sources).Path);
        Assert.False(good.Remapped);
        // A running backup from before owners were recorded has no live process to prove it: failed as interrupted.
        Assert.Equal("20250101T000000Z-00000002", Assert.Single(c.Interrupted).Id);
        Assert.StartsWith("interrupted: an unknown process", c.GetBackup("20250101T000000Z-00000002")!.Error, StringComparison.Ordinal);
        if (version >= 2) Assert.Equal(5, c.GetFile("20250101T000000Z-00000001", "/a")!.SizeBytes);
        if (version >= 2) Assert.Null(c.GetFile("20250101T000000Z-00000001", "/a")!.Special);
    }

    [Fact]
    public void Newer_schema_is_refused_with_a_clear_message()
    {
        using var s = new Scratch("migrate");
        using (var db = Catalog.OpenConnection(s["c.db"])) Exec(db, $"PRAGMA user_version = {Migrations.Latest + 1}");
        var e = Assert.Throws<UserFacingException>(() => Catalog.Open(s["c.db"]));
        Assert.Contains($"schema version {Migrations.Latest + 1}", e.Message, StringComparison.Ordinal);
    }

    static void Exec(SqliteConnection db, string sql)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
