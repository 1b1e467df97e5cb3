using Offhost.Io.Tape;
using Offhost.Server.CatalogRebuild;
using Offhost.Server.Restore;
using Offhost.Testing;

namespace Offhost.Server.Tests.Restore;

[Trait("Category", "Integration")]
public class CatalogRebuildTests
{
    [Fact]
    public async Task Catalog_rebuilt_from_the_tape_alone_drives_a_file_restore_and_rebuilding_twice_adds_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var (scratch, image, tapePath, archive) = await FileRestoreTests.Ext4BackupAsync("catalog-rebuild", ct);
        using var _s = scratch;
        using var catalog = Catalog.Catalog.Open(scratch["catalog.db"]);

        CatalogRebuildResult first, second;
        await using (var tape = SimhTapeDevice.Open(tapePath, writable: false))
        {
            first = await CatalogRebuildJob.RunAsync(tape, catalog, null, ct);
            second = await CatalogRebuildJob.RunAsync(tape, catalog, null, ct);
        }
        Assert.Empty(first.Problems);
        string backupId = Assert.Single(first.BackupsAdded);
        Assert.Empty(second.BackupsAdded);
        Assert.Equal(1, second.BackupsAlreadyPresent);
        Assert.Single(catalog.ListBackups());
        Assert.Equal(Catalog.BackupStatus.Good, catalog.GetBackup(backupId)!.Status);
        long files = catalog.CountFiles(backupId);
        Assert.Equal(first.Files, files);

        var plain = catalog.GetFile(backupId, "/plain.bin")!;
        Assert.Contains("/sub/hard.bin", plain.Links);
        var stream = Assert.Single(plain.Streams);
        Assert.NotNull(stream.XxHash64);
        Assert.Equal((int)archive, stream.Location!.Value.FileNumber);
        Assert.NotEmpty(stream.Extents);
        Assert.Equal(3, catalog.ListTapeFiles("RST001").Count);

        // Restore from what the catalog says, without reading the index tape file.
        var location = CatalogRestoreIndex.Build(catalog, backupId, ct);
        Assert.Equal("RST001", location.MediaLabel);
        await using (var tape = SimhTapeDevice.Open(tapePath, writable: false))
        {
            var result = await FileRestoreJob.RunAsync(new FileRestoreRequest(tape, location.ArchiveFileNumber, scratch["out"])
            {
                Patterns = ["sub", "plain.bin"],
                Index = location.Index,
            }, null, ct);
            Assert.True(result.Complete, string.Join("\n", result.Refused.Concat(result.Damaged).Concat(result.NotRestored)));
        }
        using var ro = Ext4VolumeBuilder.Mount(image, scratch["ro"], readOnly: true);
        Assert.Equal(
            RestoreTestKit.Snapshot(ro.Path, "meta", "sparse.img", "symabs", "empty", "lost+found", "héllo wörld ☃ 日本語.txt", new string('L', 255)),
            RestoreTestKit.Snapshot(scratch["out"], "meta"));
    }
}
