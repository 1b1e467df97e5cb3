using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Offhost.Testing;

namespace Offhost.Catalog.Tests;

public class CrashTests
{
    [Fact]
    public async Task Catalog_survives_sigkill_in_the_middle_of_a_transaction()
    {
        using var s = new Scratch("crash");
        string db = s["c.db"];
        string self = typeof(CrashTests).Assembly.Location;
        string marker = s["uncommitted"];
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true };
        foreach (var a in new[] { "exec", self, ChildWriter.Verb, db, "500", marker }) psi.ArgumentList.Add(a);
        using var child = Process.Start(psi)!;
        var stderr = child.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (!File.Exists(marker) && !child.HasExited && DateTime.UtcNow < deadline) await Task.Delay(50, TestContext.Current.CancellationToken);
            Assert.False(child.HasExited, "child ended early: " + (child.HasExited ? await stderr : ""));
            Assert.True(File.Exists(marker), "child did not reach its open transaction within 90 s");
        }
        finally
        {
            child.Kill(); // SIGKILL
            child.WaitForExit();
        }
        string backupId = File.ReadAllText(marker + ".id");
        Assert.Equal(137, child.ExitCode);

        using var c = Catalog.Open(db);
        using (var conn = Catalog.OpenConnection(db))
        using (var cmd = conn.CreateCommand())
        {
            cmd.CommandText = "PRAGMA integrity_check";
            Assert.Equal("ok", (string)cmd.ExecuteScalar()!);
        }
        var b = c.GetBackup(backupId)!;
        Assert.Equal(BackupStatus.Failed, b.Status);
        Assert.Equal(backupId, Assert.Single(c.Interrupted).Id);
        Assert.StartsWith($"interrupted: process {child.Id}", b.Error, StringComparison.Ordinal);
        Assert.Equal(500, c.CountFiles(backupId));
        Assert.Empty(c.FindFiles(backupId, "/uncommitted/**"));
        Assert.Equal(500, c.FindFiles(backupId, "/committed/*").Count());
        _ = typeof(SqliteConnection);
    }
}
