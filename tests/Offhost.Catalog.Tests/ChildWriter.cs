namespace Offhost.Catalog.Tests;

/// <summary>
/// Runs in a child process: starts a backup, commits <c>committed</c> files, then keeps inserting inside an open
/// transaction forever, writing a marker file so the parent knows when to SIGKILL it.
/// </summary>
static class ChildWriter
{
    public const string Verb = "catalog-child-writer";

    public static int Run(string[] args)
    {
        string path = args[0];
        int committed = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
        string marker = args[2];
        using var catalog = Catalog.Open(path);
        var b = catalog.BeginBackup([new BackupSource("/dev/child", "ext4")]);
        File.WriteAllText(marker + ".id", b.Id);
        using var w = catalog.BeginFiles(b.Id, filesPerTransaction: int.MaxValue);
        for (int i = 0; i < committed; i++) w.Add(Samples.File($"/committed/{i:D6}", i));
        w.Flush();
        for (int i = 0; ; i++)
        {
            w.Add(Samples.File($"/uncommitted/{i:D9}", i));
            if (i == 1000) File.WriteAllText(marker, "uncommitted");
            if (i > 1000) Thread.Sleep(1);
        }
    }
}
