using System.IO.Hashing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Offhost.Server.Restore;
using Offhost.Server.Verify;
using Offhost.Testing;

namespace Offhost.Server.Tests.Restore;

public class FileRestorePathsTests
{
    [Property(MaxTest = 3000)]
    public Property Accepted_names_never_leave_the_target() =>
        Prop.ForAll(ArbMap.Default.ArbFor<string[]>(), parts =>
        {
            // Names built from hostile-looking pieces: "..", ".", "", "/", and arbitrary text.
            string name = string.Join('/', (parts ?? []).Select(p => p ?? ".."));
            string? refusal = FileRestorePaths.Check(name, out var components);
            if (refusal is not null) return true;
            string root = "/restore/target";
            string full = Path.GetFullPath(Path.Join(root, string.Join('/', components)));
            return !name.StartsWith('/') && !name.Contains('\0') && full.StartsWith(root + "/", StringComparison.Ordinal)
                && components.All(c => c is not (".." or "." or "") && !c.Contains('/'));
        });

    [Theory]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    [InlineData("/etc/passwd")]
    [InlineData("a/..")]
    [InlineData("")]
    [InlineData("./.")]
    public void Hostile_names_are_refused(string name) => Assert.NotNull(FileRestorePaths.Check(name, out _));

    [Fact]
    public void A_symlinked_parent_is_refused_even_when_it_points_inside()
    {
        using var scratch = new Scratch("restore-paths");
        var paths = new FileRestorePaths(scratch["t"]);
        Directory.CreateDirectory(scratch["t/real"]);
        File.CreateSymbolicLink(scratch["t/link"], "real");
        Assert.Null(paths.Resolve("link/file", out var why));
        Assert.Contains("symbolic link", why, StringComparison.Ordinal);
        Assert.Equal(scratch["t/real/file"], paths.Resolve("real/file", out _));
    }

    [Property(MaxTest = 300)]
    public Property Logical_hash_equals_the_hash_of_the_zero_filled_bytes() =>
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), ArbMap.Default.ArbFor<byte>(), ArbMap.Default.ArbFor<byte>(), (data, gap, tail) =>
        {
            data ??= [];
            int half = data.Length / 2;
            var whole = new byte[gap + data.Length + gap + tail];
            data.AsSpan(0, half).CopyTo(whole.AsSpan(gap));
            data.AsSpan(half).CopyTo(whole.AsSpan(gap + half + gap));
            var h = new LogicalStreamHash(whole.Length);
            h.Append(gap, data.AsSpan(0, half));
            h.Append(gap + half + gap, data.AsSpan(half));
            return h.Complete() == XxHash64.HashToUInt64(whole);
        });
}
