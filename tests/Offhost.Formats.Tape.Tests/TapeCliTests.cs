using Offhost.Testing;

namespace Offhost.Formats.Tape.Tests;

/// <summary><c>offhost tape new|ls|cat</c> run as a process: output, exit codes and error lines.</summary>
public sealed class TapeCliTests : IDisposable
{
    readonly Scratch scratch = new("tape-cli");

    public void Dispose() => scratch.Dispose();

    static Tool.Result Offhost(params string[] args) =>
        Tool.TryRun("dotnet", [Path.Combine(AppContext.BaseDirectory, "offhost.dll"), .. args]);

    [Fact]
    public void New_then_ls_shows_the_label_and_tape_file_0()
    {
        string tape = scratch["v.tap"];
        var r = Offhost("tape", "new", tape, "--capacity", "10G", "--label", "VOL001");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(8 + 512 + 4, new FileInfo(tape).Length); // label record + filemark; the capacity is not preallocated
        var ls = Offhost("tape", "ls", tape);
        Assert.Equal(0, ls.ExitCode);
        Assert.Contains("VOL001", ls.Stdout, StringComparison.Ordinal);
        Assert.Contains("10737418240 bytes", ls.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"\n\s+0\s+1\s+512\s+volume label", ls.Stdout);
    }

    [Fact]
    public void Mistakes_give_one_line_and_the_usage_exit_code()
    {
        string tape = scratch["w.tap"];
        Assert.Equal(0, Offhost("tape", "new", tape, "--capacity", "1M", "--label", "A1").ExitCode);
        foreach (var args in (string[][])
        [
            ["tape", "new", tape, "--capacity", "1M", "--label", "A1"],           // exists
            ["tape", "new", scratch["x.tap"], "--capacity", "1M", "--label", "a1"], // lower case
            ["tape", "new", scratch["y.tap"], "--capacity", "lots", "--label", "A1"],
            ["tape", "cat", tape, "--file", "7"],
            ["tape", "ls", scratch["missing.tap"]],
        ])
        {
            var r = Offhost(args);
            Assert.Equal(2, r.ExitCode);
            Assert.StartsWith("offhost: ", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
        }
        Assert.Equal(0, Offhost("tape", "new", tape, "--capacity", "2M", "--label", "A2", "--force").ExitCode);
        Assert.Contains("A2", Offhost("tape", "ls", tape).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Damaged_tape_is_reported_with_its_byte_offset()
    {
        string tape = scratch["d.tap"];
        Assert.Equal(0, Offhost("tape", "new", tape, "--capacity", "1M", "--label", "D1").ExitCode);
        using (var fs = new FileStream(tape, FileMode.Append)) fs.Write([0x10, 0, 0, 0, 1, 2, 3]);
        var r = Offhost("tape", "cat", tape, "--file", "1");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("damaged", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("byte offset 524", r.Stderr, StringComparison.Ordinal);
    }
}
