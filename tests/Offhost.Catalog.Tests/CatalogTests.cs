using Microsoft.Data.Sqlite;
using Offhost.Core.Mapping;
using Offhost.Testing;

namespace Offhost.Catalog.Tests;

public sealed class CatalogTests : IDisposable
{
    readonly Scratch _scratch = new("catalog");
    readonly Catalog _catalog;

    public CatalogTests() => _catalog = Catalog.Open(_scratch["catalog.db"]);

    public void Dispose()
    {
        _catalog.Dispose();
        _scratch.Dispose();
    }

    BackupRecord Begin() => _catalog.BeginBackup([new BackupSource("/dev/sdb1", "ntfs"), new BackupSource("/dev/sdb2", "ext4")], "reflink");

    [Fact]
    public void Backups_are_found_by_id_unique_prefix_or_latest_good_and_ambiguity_is_refused()
    {
        var uuid = Guid.Parse("0123abcd-0000-0000-0000-000000000000");
        string id = Catalog.BackupIdFor(new DateTimeOffset(2026, 11, 23, 10, 0, 5, TimeSpan.FromHours(1)), uuid);
        Assert.Equal("20261123T090005Z-0123abcd", id);
        var a = _catalog.BeginBackup([new BackupSource("/a", "ntfs")], id: id);
        var b = _catalog.BeginBackup([new BackupSource("/b", "ext4") { FileSet = ["/etc", "*.log"] }], id: "20261123T090006Z-ffffffff");
        Assert.Equal(a.Id, _catalog.FindBackup("20261123T090005").Id);
        Assert.Equal(b.Id, _catalog.FindBackup(b.Id).Id);
        Assert.Equal(["/etc", "*.log"], _catalog.GetBackup(b.Id)!.Sources[0].FileSet);
        Assert.Null(_catalog.GetBackup(a.Id)!.Sources[0].FileSet);
        var many = Assert.Throws<Core.Errors.UserFacingException>(() => _catalog.FindBackup("20261123T09"));
        Assert.Contains("several", many.Message, StringComparison.Ordinal);
        Assert.Throws<Core.Errors.UserFacingException>(() => _catalog.FindBackup("latest"));   // none is good yet
        Assert.Throws<Core.Errors.UserFacingException>(() => _catalog.FindBackup("1999"));
    }

    [Fact]
    public void Media_remember_their_location_and_backups_their_last_verification()
    {
        _catalog.AddMedia(new MediaRecord("VOL001", 1L << 30) { Location = "/tapes/vol001.tap" });
        Assert.Equal("/tapes/vol001.tap", _catalog.GetMedia("VOL001")!.Location);
        _catalog.SetMediaLocation("VOL001", "iscsi://tape-host/iqn.2026-11.test:tape/0");
        Assert.Equal("iscsi://tape-host/iqn.2026-11.test:tape/0", _catalog.GetMedia("VOL001")!.Location);
        var b = Begin();
        Assert.Null(_catalog.GetBackup(b.Id)!.VerifiedAt);
        var at = new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
        _catalog.RecordVerification(b.Id, at, ok: false);
        Assert.Equal(at, _catalog.GetBackup(b.Id)!.VerifiedAt);
        Assert.False(_catalog.GetBackup(b.Id)!.VerifyOk);
        _catalog.AddTapeFile(new TapeFileRecord("VOL001", 3, TapeFileKind.Index, 1, 512, b.Id));
        _catalog.AddTapeFile(new TapeFileRecord("VOL001", 2, TapeFileKind.Archive, 4, 2048, b.Id));
        Assert.Equal([2, 3], _catalog.TapeFilesOf(b.Id).Select(t => t.FileNumber));
    }

    [Fact]
    public void Open_uses_wal_foreign_keys_and_the_latest_schema()
    {
        Assert.Equal(Migrations.Latest, _catalog.SchemaVersion);
        using var db = Catalog.OpenConnection(_scratch["catalog.db"]);
        using var cmd = db.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string)cmd.ExecuteScalar()!);
        cmd.CommandText = "PRAGMA foreign_keys";
        Assert.Equal(1L, (long)cmd.ExecuteScalar()!);
    }

    [Fact]
    public void Default_location_follows_xdg_data_home()
    {
        string? saved = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        try
        {
            Environment.SetEnvironmentVariable("XDG_DATA_HOME", "/srv/data");
            Assert.Equal("/srv/data/offhost/catalog.db", CatalogLocation.DefaultPath());
            Environment.SetEnvironmentVariable("XDG_DATA_HOME", "relative/ignored");
            Assert.EndsWith("/.local/share/offhost/catalog.db", CatalogLocation.DefaultPath(), StringComparison.Ordinal);
        }
        finally { Environment.SetEnvironmentVariable("XDG_DATA_HOME", saved); }
    }

    [Fact]
    public void Backup_round_trips_and_ids_sort_by_start_time()
    {
        var a = _catalog.BeginBackup([new BackupSource("/img/a", "ext4")], startedAt: new DateTimeOffset(2026, 11, 23, 13, 45, 0, TimeSpan.Zero));
        var b = Begin();
        Assert.Matches(@"^20261123T134500Z-[0-9a-f]{8}$", a.Id);
        var frozen = new DateTimeOffset(2026, 11, 23, 13, 46, 1, 123, TimeSpan.Zero);
        _catalog.SetFrozenImage(b.Id, frozen, "freeze");
        _catalog.SetTotals(b.Id, 123_456_789_012, 42);
        _catalog.RecordRemap(b.Id, "3 files moved");
        _catalog.RecordRemap(b.Id, "1 extent grew");
        var back = _catalog.GetBackup(b.Id)!;
        Assert.Equal(BackupStatus.Running, back.Status);
        Assert.Equal(["/dev/sdb1", "/dev/sdb2"], back.Sources.Select(s => s.Path));
        Assert.Equal(["ntfs", "ext4"], back.Sources.Select(s => s.FileSystem));
        Assert.Equal(frozen, back.FrozenImageAt);
        Assert.Equal("freeze", back.SnapshotProvider);
        Assert.Equal(123_456_789_012, back.Bytes);
        Assert.Equal(42, back.Files);
        Assert.True(back.Remapped);
        Assert.Equal("3 files moved\n1 extent grew", back.RemapDetails);
        Assert.Equal(Environment.ProcessId, back.Owner!.Value.Pid);
        Assert.Equal([a.Id, b.Id], _catalog.ListBackups().Select(x => x.Id));
    }

    [Fact]
    public void Mark_good_needs_archive_and_index_on_tape()
    {
        var b = Begin();
        _catalog.AddMedia(new MediaRecord("TAPE01", 400_000_000_000));
        _catalog.AddTapeFile(new TapeFileRecord("TAPE01", 0, TapeFileKind.Label, 1, 80, null));
        _catalog.AddTapeFile(new TapeFileRecord("TAPE01", 1, TapeFileKind.Archive, 1000, 1000 * 10240, b.Id));
        var e = Assert.Throws<InvalidOperationException>(() => _catalog.MarkGood(b.Id));
        Assert.Contains("1 archive and 0 index", e.Message, StringComparison.Ordinal);
        Assert.Equal(BackupStatus.Running, _catalog.GetBackup(b.Id)!.Status);

        _catalog.AddTapeFile(new TapeFileRecord("TAPE01", 2, TapeFileKind.Index, 3, 30720, b.Id));
        _catalog.MarkGood(b.Id);
        var good = _catalog.GetBackup(b.Id)!;
        Assert.Equal(BackupStatus.Good, good.Status);
        Assert.NotNull(good.FinishedAt);
        Assert.Throws<InvalidOperationException>(() => _catalog.MarkFailed(b.Id, "late"));
        Assert.Equal(3, _catalog.ListTapeFiles("TAPE01").Count);
        Assert.Equal(TapeFileKind.Index, _catalog.ListTapeFiles("TAPE01")[2].Kind);
        Assert.Equal(400_000_000_000, _catalog.GetMedia("TAPE01")!.CapacityBytes);
    }

    [Fact]
    public void Mark_failed_and_incomplete_keep_the_error()
    {
        var a = Begin();
        var b = Begin();
        _catalog.MarkFailed(a.Id, "SCSI sense MEDIUM ERROR");
        _catalog.MarkFailed(b.Id, "cancelled", BackupStatus.Incomplete);
        Assert.Equal((BackupStatus.Failed, "SCSI sense MEDIUM ERROR"), (_catalog.GetBackup(a.Id)!.Status, _catalog.GetBackup(a.Id)!.Error));
        Assert.Equal(BackupStatus.Incomplete, _catalog.GetBackup(b.Id)!.Status);
        Assert.Throws<InvalidOperationException>(() => _catalog.MarkGood(a.Id));
    }

    [Fact]
    public void File_with_every_field_round_trips()
    {
        var b = Begin();
        var file = new CatalogFile(CatalogFileKind.File, "/docs/report final.docx")
        {
            VolumeIndex = 1,
            Links = ["/docs/link1", "/other/ünïcode"],
            SizeBytes = 1_234_567,
            Mode = 0x81ED,
            Uid = 4_000_000_000,
            Gid = 0,
            Attributes = ["archive", "hidden"],
            Created = new MapTime(-1, 999_999_999),
            Modified = new MapTime(1_700_000_000, 1),
            Changed = new MapTime(1_700_000_001, 500),
            Accessed = new MapTime(15_000_000_000, 0),
            Xattrs = new Dictionary<string, byte[]> { ["user.a"] = [1, 2, 3], ["security.selinux"] = "x\0"u8.ToArray() },
            Streams =
            [
                new CatalogStream("", 1_234_567)
                {
                    Location = new TapeLocation("TAPE07", 12, 9_000_000_000, 9_000_001_536),
                    XxHash64 = ulong.MaxValue,
                    Extents = [new SourceExtent(1, 2048, 100, 0), new SourceExtent(1, 10, 202, 409_600)],
                },
                new CatalogStream("Zone.Identifier", 26) { XxHash64 = 0 },
            ],
        };
        using (var w = _catalog.BeginFiles(b.Id))
        {
            w.Add(file);
            w.Add(new CatalogFile(CatalogFileKind.Symlink, "/docs/ln") { Target = "../x", LinkKind = "symlink" });
            w.Complete();
        }
        var back = _catalog.GetFile(b.Id, "/docs/report final.docx")!;
        Assert.Equal(file.Links, back.Links);
        Assert.Equal(file.Attributes, back.Attributes);
        Assert.Equal((file.SizeBytes, file.Mode, file.Uid, file.Gid, file.VolumeIndex), (back.SizeBytes, back.Mode, back.Uid, back.Gid, back.VolumeIndex));
        Assert.Equal((file.Created, file.Modified, file.Changed, file.Accessed), (back.Created, back.Modified, back.Changed, back.Accessed));
        Assert.Equal(file.Xattrs.Keys.Order(), back.Xattrs.Keys.Order());
        Assert.Equal(file.Xattrs["security.selinux"], back.Xattrs["security.selinux"]);
        Assert.Equal(2, back.Streams.Count);
        Assert.Equal(file.Streams[0].Location, back.Streams[0].Location);
        Assert.Equal(ulong.MaxValue, back.Streams[0].XxHash64);
        Assert.Equal(file.Streams[0].Extents, back.Streams[0].Extents);
        Assert.Equal("Zone.Identifier", back.Streams[1].Name);
        Assert.Null(back.Streams[1].Location);
        var link = _catalog.GetFile(b.Id, "/docs/ln")!;
        Assert.Equal(("../x", "symlink", CatalogFileKind.Symlink), (link.Target, link.LinkKind, link.Kind));
        Assert.Null(_catalog.GetFile(b.Id, "/docs/missing"));
    }

    [Fact]
    public void From_map_entry_keeps_metadata_and_data_extents()
    {
        var entry = new MapEntry(MapEntryKind.File, "/a/b", 42)
        {
            SizeBytes = 10_000,
            Mode = 0x81A4,
            Modified = new MapTime(5, 6),
            Xattrs = new Dictionary<string, ReadOnlyMemory<byte>> { ["user.k"] = new byte[] { 9 } },
            Streams =
            [
                new MapStream("", 10_000)
                {
                    Extents = [MapExtent.Data(0, 4096, 100, 4096), MapExtent.Zero(4096, 4096), MapExtent.Data(8192, 1808, 7, 4096)],
                },
            ],
        };
        var f = CatalogFile.FromMapEntry(entry, volumeIndex: 2, deviceIndex: 1);
        Assert.Equal(2, f.VolumeIndex);
        Assert.Equal([new SourceExtent(1, 100, 1, 0), new SourceExtent(1, 7, 1, 8192)], f.Streams[0].Extents);
        Assert.Equal([9], f.Xattrs["user.k"]);
    }

    [Fact]
    public void Special_files_keep_their_kind_and_device_number()
    {
        var b = Begin();
        var device = CatalogFile.FromMapEntry(new MapEntry(MapEntryKind.Special, "/dev/sda", 9)
        {
            Special = SpecialFileKind.BlockDevice, Device = new DeviceNumber(4095, 1_048_575), Mode = 0x6180,
        }, volumeIndex: 1);
        Assert.Equal((CatalogFileKind.Special, "blockdev"), (device.Kind, device.KindName));
        using (var w = _catalog.BeginFiles(b.Id))
        {
            w.Add(device);
            w.Add(new CatalogFile(CatalogFileKind.Special, "/dev/fifo") { Special = SpecialFileKind.Fifo });
            w.Add(new CatalogFile(CatalogFileKind.File, "/plain"));
            w.Complete();
        }
        var files = _catalog.FindFiles(b.Id, "**").ToDictionary(f => f.Path);
        Assert.Equal((SpecialFileKind.BlockDevice, new DeviceNumber(4095, 1_048_575)), (files["/dev/sda"].Special!.Value, files["/dev/sda"].Device!.Value));
        Assert.Equal(("fifo", (DeviceNumber?)null), (files["/dev/fifo"].KindName, files["/dev/fifo"].Device));
        Assert.Equal(("file", (SpecialFileKind?)null), (files["/plain"].KindName, files["/plain"].Special));
    }

    [Fact]
    public void Find_files_by_pattern_streams_in_path_order()
    {
        var b = Begin();
        var other = Begin();
        using (var w = _catalog.BeginFiles(b.Id, filesPerTransaction: 7))
        {
            foreach (var p in new[] { "/home/ann/a.txt", "/home/bob/b.txt", "/home/bob/deep/c.txt", "/etc/passwd", "/home/ann/a.TXT" })
                w.Add(new CatalogFile(CatalogFileKind.File, p));
            for (int i = 0; i < 100; i++) w.Add(new CatalogFile(CatalogFileKind.File, $"/var/log/{i:D3}.log"));
            w.Complete();
        }
        using (var w = _catalog.BeginFiles(other.Id))
        {
            w.Add(new CatalogFile(CatalogFileKind.File, "/home/zed/z.txt"));
            w.Complete();
        }
        Assert.Equal(["/home/ann/a.txt", "/home/bob/b.txt", "/home/bob/deep/c.txt"], _catalog.FindFiles(b.Id, "*.txt").Select(f => f.Path));
        Assert.Equal(["/home/ann/a.txt", "/home/bob/b.txt"], _catalog.FindFiles(b.Id, "/home/*/*.txt").Select(f => f.Path));
        Assert.Equal(["/home/bob/b.txt", "/home/bob/deep/c.txt"], _catalog.FindFiles(b.Id, "/home/bob/**").Select(f => f.Path));
        Assert.Equal(100, _catalog.FindFiles(b.Id, "/var/log/*.log").Count());
        Assert.Equal(10, _catalog.FindFiles(b.Id, "/var/log/00?.log").Count());
        Assert.Empty(_catalog.FindFiles(b.Id, "/nowhere/**"));
        Assert.Equal(105, _catalog.CountFiles(b.Id));

        // Lazy: taking the first rows of a large result does not read the rest.
        Assert.Equal("/var/log/000.log", _catalog.FindFiles(b.Id, "/var/**").First().Path);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => _catalog.FindFiles(b.Id, "**", cts.Token).ToList());
    }

    [Fact]
    public void Files_with_streams_reads_each_file_with_its_own_streams_even_when_two_volumes_share_a_path()
    {
        var b = Begin();
        var other = Begin();
        CatalogStream Stream(string name, long at) => new(name, at) { Location = new TapeLocation("T1", 1, at, at + 512), XxHash64 = (ulong)at };
        using (var w = _catalog.BeginFiles(b.Id, filesPerTransaction: 3))
        {
            w.Add(new CatalogFile(CatalogFileKind.File, "/same") { VolumeIndex = 1, Streams = [Stream("", 1000), Stream("ads", 2000)] });
            w.Add(new CatalogFile(CatalogFileKind.File, "/same") { VolumeIndex = 2, Streams = [Stream("", 3000)] });
            w.Add(new CatalogFile(CatalogFileKind.Directory, "/d") { VolumeIndex = 1 });
            for (int i = 0; i < 20; i++) w.Add(new CatalogFile(CatalogFileKind.File, $"/d/{i:D2}") { VolumeIndex = 1, Streams = [Stream("", 10_000 + i)] });
            w.Complete();
        }
        using (var w = _catalog.BeginFiles(other.Id))
        {
            w.Add(new CatalogFile(CatalogFileKind.File, "/same") { VolumeIndex = 1, Streams = [Stream("", 9)] });
            w.Complete();
        }
        var all = _catalog.FilesWithStreams(b.Id).ToList();
        Assert.Equal(_catalog.FindFiles(b.Id, "**").Select(f => (f.Path, f.VolumeIndex)), all.Select(f => (f.Path, f.VolumeIndex)));
        var same = all.Where(f => f.Path == "/same").OrderBy(f => f.VolumeIndex).ToList();
        Assert.Equal([[1000L, 2000L], [3000L]], same.Select(f => f.Streams.Select(s => s.SizeBytes).ToArray()));
        Assert.Equal(["", "ads"], same[0].Streams.Select(s => s.Name));
        Assert.Empty(all.Single(f => f.Path == "/d").Streams);
        foreach (var f in all.Where(f => f.Path.StartsWith("/d/", StringComparison.Ordinal)))
            Assert.Equal(_catalog.GetFile(b.Id, f.Path)!.Streams, f.Streams);
    }

    [Fact]
    public void Delete_backup_removes_files_and_streams_but_keeps_tape_files()
    {
        var b = Begin();
        _catalog.AddMedia(new MediaRecord("T1", 1));
        _catalog.AddTapeFile(new TapeFileRecord("T1", 1, TapeFileKind.Archive, 1, 1, b.Id));
        using (var w = _catalog.BeginFiles(b.Id))
        {
            for (int i = 0; i < 50; i++) w.Add(Samples.File($"/f{i}", i));
            w.Complete();
        }
        Assert.True(_catalog.DeleteBackup(b.Id));
        Assert.False(_catalog.DeleteBackup(b.Id));
        Assert.Null(_catalog.GetBackup(b.Id));
        using var db = Catalog.OpenConnection(_catalog.Path);
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT (SELECT count(*) FROM files) + (SELECT count(*) FROM streams) + (SELECT count(*) FROM backup_sources)";
        Assert.Equal(0L, (long)cmd.ExecuteScalar()!);
        Assert.Null(Assert.Single(_catalog.ListTapeFiles("T1")).BackupId);
    }

    [Fact]
    public void Writer_disposed_without_complete_rolls_back_the_open_batch()
    {
        var b = Begin();
        using (var w = _catalog.BeginFiles(b.Id, filesPerTransaction: 10))
        {
            for (int i = 0; i < 25; i++) w.Add(Samples.File($"/f{i:D2}", i));
        }
        Assert.Equal(20, _catalog.CountFiles(b.Id));
        // The catalog is usable again afterwards.
        _catalog.SetTotals(b.Id, 1, 20);
    }

    [Fact]
    public void Two_catalog_connections_writing_interleaved_batches_keep_ids_apart()
    {
        using var other = Catalog.Open(_catalog.Path);
        var a = Begin();
        var b = other.BeginBackup([new BackupSource("/dev/sdc", "ext4")]);
        using (var wa = _catalog.BeginFiles(a.Id, filesPerTransaction: 5))
        using (var wb = other.BeginFiles(b.Id, filesPerTransaction: 5))
        {
            for (int round = 0; round < 4; round++)
            {
                for (int i = 0; i < 5; i++) wa.Add(Samples.File($"/a/{round}-{i}", i));
                for (int i = 0; i < 5; i++) wb.Add(Samples.File($"/b/{round}-{i}", i));
            }
            wa.Complete();
            wb.Complete();
        }
        Assert.Equal(20, _catalog.CountFiles(a.Id));
        Assert.Equal(20, _catalog.CountFiles(b.Id));
        Assert.All(_catalog.FindFiles(a.Id, "**"), f => Assert.StartsWith("/a/", f.Path, StringComparison.Ordinal));
        Assert.Single(_catalog.GetFile(b.Id, "/b/3-4")!.Streams);
    }

    [Fact]
    public void Stale_running_backup_of_a_dead_process_is_failed_at_open()
    {
        var live = Begin();
        var dead = Begin();
        // Same pid, different start time: what pid reuse looks like.
        using (var db = Catalog.OpenConnection(_catalog.Path))
        using (var cmd = db.CreateCommand())
        {
            cmd.CommandText = "UPDATE backups SET owner_start_ticks = owner_start_ticks + 1 WHERE id = $id";
            cmd.Parameters.AddWithValue("$id", dead.Id);
            Assert.Equal(1, cmd.ExecuteNonQuery());
        }
        using var reopened = Catalog.Open(_catalog.Path);
        var stale = Assert.Single(reopened.Interrupted);
        Assert.Equal(dead.Id, stale.Id);
        Assert.Equal(BackupStatus.Failed, stale.Status);
        Assert.StartsWith($"interrupted: process {Environment.ProcessId} ended", stale.Error, StringComparison.Ordinal);
        Assert.Equal(BackupStatus.Running, reopened.GetBackup(live.Id)!.Status);
    }

    [Fact]
    public void Hundred_thousand_files_insert_in_batches()
    {
        var b = Begin();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var cpu0 = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        using (var w = _catalog.BeginFiles(b.Id))
        {
            for (int i = 0; i < 100_000; i++) w.Add(Samples.File($"/data/{i % 100:D2}/{i:D6}.bin", i));
            w.Complete();
        }
        sw.Stop();
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu0;
        TestContext.Current.SendDiagnosticMessage($"100000 files in {sw.Elapsed.TotalSeconds:F2} s wall, {cpu.TotalSeconds:F2} s CPU");
        Assert.Equal(100_000, _catalog.CountFiles(b.Id));
        Assert.Equal(1000, _catalog.FindFiles(b.Id, "/data/42/*").Count());
    }

    [Fact]
    public void Parameters_are_never_interpolated()
    {
        var b = Begin();
        using (var w = _catalog.BeginFiles(b.Id))
        {
            w.Add(new CatalogFile(CatalogFileKind.File, "/x'; DROP TABLE files; --"));
            w.Complete();
        }
        Assert.NotNull(_catalog.GetFile(b.Id, "/x'; DROP TABLE files; --"));
        Assert.Single(_catalog.FindFiles(b.Id, "/x'*"));
        _ = typeof(SqliteConnection);
    }
}
