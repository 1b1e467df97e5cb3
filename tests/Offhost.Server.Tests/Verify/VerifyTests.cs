using Offhost.Io.Tape;
using Offhost.Server.Restore;
using Offhost.Server.Tests.Restore;
using Offhost.Server.Verify;

namespace Offhost.Server.Tests.Verify;

[Trait("Category", "Integration")]
public class VerifyTests
{
    [Fact]
    public async Task Verify_passes_on_a_good_tape_and_a_flipped_data_byte_is_reported_with_path_and_offset()
    {
        var ct = TestContext.Current.CancellationToken;
        var (scratch, _, tapePath, archive) = await FileRestoreTests.Ext4BackupAsync("verify", ct);
        using var _s = scratch;

        VerifyResult good;
        long dataOffset, dataEnd;
        await using (var tape = SimhTapeDevice.Open(tapePath, writable: false))
        {
            good = await VerifyJob.RunAsync(tape, archive, null, ct);
            var index = await VolumeRestoreJob.ReadIndexAsync(tape, archive, ct);
            var plain = index.Entries.Single(e => e.Path == "plain.bin").Streams.Single(s => s.Name == "");
            dataOffset = plain.DataOffsetBytes;
            dataEnd = plain.DataOffsetBytes + plain.SizeBytes;
        }
        Assert.True(good.Ok, string.Join("\n", good.Problems));
        Assert.True(good.EndOfArchive);
        Assert.True(good.StreamsChecked >= 8, $"{good.StreamsChecked} streams checked");

        long flipped = dataOffset + 12345;
        await RestoreTestKit.FlipArchiveByteAsync(tapePath, archive, flipped, ct);
        await using (var tape = SimhTapeDevice.Open(tapePath, writable: false))
        {
            var bad = await VerifyJob.RunAsync(tape, archive, null, ct);
            Assert.False(bad.Ok);
            var problem = Assert.Single(bad.Problems);
            Assert.Equal("plain.bin", problem.Path);
            Assert.True(problem.ArchiveOffsetBytes <= flipped && flipped < dataEnd, problem.ToString());

            // A restore of the damaged tape flags the file and never leaves it under its own name.
            var restore = await FileRestoreJob.RunAsync(new FileRestoreRequest(tape, archive, scratch["out"]), null, ct);
            Assert.Contains(restore.Damaged, p => p.Path == "plain.bin");
            Assert.False(restore.Complete);
            Assert.False(File.Exists(scratch["out/plain.bin"]));
            Assert.True(File.Exists(scratch["out/plain.bin" + FileRestoreJob.DamagedSuffix]));
        }
    }

    [Fact]
    public async Task A_damaged_header_is_reported_with_its_offset()
    {
        var ct = TestContext.Current.CancellationToken;
        var (scratch, _, tapePath, archive) = await FileRestoreTests.Ext4BackupAsync("verify-header", ct);
        using var _s = scratch;
        long memberOffset;
        await using (var tape = SimhTapeDevice.Open(tapePath, writable: false))
            memberOffset = (await VolumeRestoreJob.ReadIndexAsync(tape, archive, ct)).Entries.Single(e => e.Path == "sub/a.txt").MemberOffsetBytes;
        await RestoreTestKit.FlipArchiveByteAsync(tapePath, archive, memberOffset + 3, ct);
        await using (var tape = SimhTapeDevice.Open(tapePath, writable: false))
        {
            var bad = await VerifyJob.RunAsync(tape, archive, null, ct);
            Assert.False(bad.Ok);
            var problem = Assert.Single(bad.Problems);
            Assert.True(problem.ArchiveOffsetBytes >= memberOffset && problem.ArchiveOffsetBytes < memberOffset + 4096, problem.ToString());
            Assert.Equal("sub/a.txt", problem.Path);
            Assert.Contains("resumes", problem.Reason, StringComparison.Ordinal);
            Assert.True(bad.EndOfArchive);
        }
    }
}
