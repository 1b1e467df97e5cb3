using Offhost.DataMover.Tests.Fakes;
using Offhost.Io.Block;
using Offhost.Scsi.ExtendedCopy;
using Offhost.Testing;

namespace Offhost.DataMover.Tests;

public class FileBlockDeviceTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static IEnumerable<SegmentDescriptor> Clone(ushort s, ushort d, long blocks)
    {
        for (long lba = 0; lba < blocks; lba += 65535)
            yield return new BlockToBlockSegment(s, d, (ushort)Math.Min(65535, blocks - lba), (ulong)lba, (ulong)lba);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Clone_of_an_ext4_image_through_the_copy_manager_is_byte_identical(bool directIo)
    {
        Requires.Tool("mkfs.ext4");
        using var scratch = new Scratch("xcopy-clone");
        string img = scratch["src.img"], copy = scratch["dst.img"];
        Tool.Bash($"truncate -s 48M '{img}' && mkfs.ext4 -q -F -U 6c5a1e3e-0000-4000-8000-000000000001 -E root_owner=0:0 '{img}' && " +
                  $"dd if=/dev/urandom of='{img}' bs=1M seek=20 count=8 conv=notrunc status=none && truncate -s 48M '{copy}'");
        await using var src = FileBlockDevice.Open(img, new FileBlockDeviceOptions { DirectIo = directIo });
        await using var dst = FileBlockDevice.Open(copy, new FileBlockDeviceOptions { Writable = true, DirectIo = directIo });
        var rig = new Rig();
        ushort s = rig.Block(src), d = rig.Block(dst);
        var outcome = await rig.Manager().ExecuteAsync(rig.List(Clone(s, d, src.BlockCount)), Ct);
        Assert.Equal(48L << 20, outcome.TransferredBytes);
        await dst.FlushAsync(Ct);
        Assert.Equal(0, Tool.TryRun("cmp", [img, copy]).ExitCode);
    }

    [Fact]
    public async Task Image_backed_up_to_tape_and_restored_to_another_image_is_byte_identical()
    {
        using var scratch = new Scratch("xcopy-roundtrip");
        string img = scratch["src.img"], back = scratch["restored.img"];
        await File.WriteAllBytesAsync(img, TestData.Random(21, 3 << 20), Ct);
        await File.WriteAllBytesAsync(back, new byte[3 << 20], Ct);
        await using var src = FileBlockDevice.Open(img);
        await using var dst = FileBlockDevice.Open(back, new FileBlockDeviceOptions { Writable = true });
        var tape = new MemoryTapeDevice();
        var rig = new Rig();
        ushort s = rig.Block(src), t = rig.Tape(tape, pad: true), d = rig.Block(dst);
        var m = rig.Manager();
        await m.ExecuteAsync(rig.List(Rig.Backup(s, t, src.BlockCount, 1000, 256 << 10)), Ct);
        await tape.RewindAsync(Ct);
        await m.ExecuteAsync(rig.List(Rig.Restore(t, d, src.BlockCount, 777, 256 << 10), listId: 2), Ct);
        Assert.Equal(await File.ReadAllBytesAsync(img, Ct), await File.ReadAllBytesAsync(back, Ct));
    }

    [Fact]
    public async Task An_image_opened_read_only_refuses_writes_and_reports_its_geometry()
    {
        using var scratch = new Scratch("xcopy-ro");
        string img = scratch["a.img"];
        await File.WriteAllBytesAsync(img, TestData.Random(22, 1 << 20), Ct);
        await using var dev = FileBlockDevice.Open(img);
        Assert.True(dev.IsReadOnly);
        Assert.Equal(512, dev.BlockSizeBytes);
        Assert.Equal(2048, dev.BlockCount);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await dev.WriteAsync(new Core.Units.Lba(0), new byte[512], Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await dev.ReadAsync(new Core.Units.Lba(2047), new byte[1024], Ct));
        var buf = new byte[1024];
        await dev.ReadAsync(new Core.Units.Lba(2046), buf, Ct);
        Assert.Equal(TestData.Random(22, 1 << 20)[^1024..], buf);
    }

    [Fact]
    public async Task The_NAA_designator_is_stable_per_image_differs_between_images_and_honours_a_stored_id()
    {
        using var scratch = new Scratch("xcopy-naa");
        string a = scratch["a.img"], b = scratch["b.img"];
        await File.WriteAllBytesAsync(a, new byte[4096], Ct);
        await File.WriteAllBytesAsync(b, new byte[4096], Ct);
        byte[] first, again, other;
        await using (var d = FileBlockDevice.Open(a)) first = d.NaaDesignator;
        await using (var d = FileBlockDevice.Open(a)) again = d.NaaDesignator;
        await using (var d = FileBlockDevice.Open(b)) other = d.NaaDesignator;
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.Equal(16, first.Length);
        Assert.Equal(6, first[0] >> 4);
        await File.WriteAllTextAsync(b + ".naa", "naa.6001405AAAAAAAAAAAAAAAAAAAAAAAAA\n", Ct);
        await using (var d = FileBlockDevice.Open(b))
        {
            Assert.Equal(Convert.FromHexString("6001405AAAAAAAAAAAAAAAAAAAAAAAAA"), d.NaaDesignator);
            Assert.Equal("naa.6001405AAAAAAAAAAAAAAAAAAAAAAAAA", d.DeviceId);
        }
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task A_loop_device_reports_its_size_from_BLKGETSIZE64_and_clones_exactly()
    {
        Requires.Root();
        Requires.Tool("losetup");
        using var scratch = new Scratch("xcopy-loop");
        string img = scratch["loop.img"], copy = scratch["copy.img"];
        await File.WriteAllBytesAsync(img, TestData.Random(23, 6 << 20), Ct);
        await File.WriteAllBytesAsync(copy, new byte[6 << 20], Ct);
        string loop = Tool.Run("losetup", "--find", "--show", "--read-only", img).Trim();
        try
        {
            await using var src = FileBlockDevice.Open(loop);
            Assert.True(DeviceGeometry.IsBlockDevice(loop));
            Assert.Equal(6L << 20, src.BlockCount * src.BlockSizeBytes);
            await using var dst = FileBlockDevice.Open(copy, new FileBlockDeviceOptions { Writable = true });
            var rig = new Rig();
            ushort s = rig.Block(src), d = rig.Block(dst);
            await rig.Manager().ExecuteAsync(rig.List(Clone(s, d, src.BlockCount)), Ct);
            Assert.Equal(await File.ReadAllBytesAsync(img, Ct), await File.ReadAllBytesAsync(copy, Ct));
        }
        finally
        {
            Tool.TryRun("losetup", ["-d", loop]);
        }
    }

    /// <summary>The image behind a loop device is rewritten without passing through the loop device, as another host
    /// writes a shared LUN (or a mounted file system writes its data): the device's page cache still holds the old bytes,
    /// and a buffered read returns them. <see cref="FileBlockDevice"/> and <see cref="FileBlockSource"/> must return the
    /// new ones, for reads of any offset, length and memory alignment.</summary>
    [Fact]
    [Trait("Category", "Integration")]
    public async Task A_block_device_is_read_past_its_page_cache_at_any_offset_length_and_alignment()
    {
        Requires.Root();
        Requires.Tool("losetup");
        using var scratch = new Scratch("uncached-loop");
        string img = scratch["loop.img"];
        const int Size = 4 << 20;
        await File.WriteAllBytesAsync(img, TestData.Random(31, Size), Ct);
        string loop = Tool.Run("losetup", "--find", "--show", "--read-only", img).Trim();
        try
        {
            // Held open throughout, as a mounted file system holds its device: the last close would drop the cache.
            using var cached = File.OpenHandle(loop);
            byte[] viaCache = new byte[Size];
            RandomAccess.Read(cached, viaCache, 0);                                   // fills the device's page cache
            byte[] now = TestData.Random(32, Size);
            using (var behind = File.OpenHandle(img, FileMode.Open, FileAccess.Write)) RandomAccess.Write(behind, now, 0);
            RandomAccess.Read(cached, viaCache, 0);
            Assert.False(viaCache.AsSpan().SequenceEqual(now), "the buffered read already sees the new bytes: this kernel keeps the cache coherent, and the test shows nothing");

            await using var device = FileBlockDevice.Open(loop);
            using var source = new FileBlockSource(loop);
            var whole = new byte[Size];
            await device.ReadAsync(new Core.Units.Lba(0), whole, Ct);
            Assert.True(whole.AsSpan().SequenceEqual(now), "FileBlockDevice returned bytes from before the write");

            var random = new Random(33);
            var backing = new byte[Size + 4096 + 1];
            for (int i = 0; i < 200; i++)
            {
                int length = random.Next(1, 3 << 20), at = random.Next(0, Size - length), skew = random.Next(0, 4097);
                var into = backing.AsSpan(skew, length);
                source.ReadAt(at, into);
                Assert.True(into.SequenceEqual(now.AsSpan(at, length)), $"FileBlockSource: {length} bytes at byte offset {at} into memory skewed by {skew}");
                int blocks = Math.Max(1, length / device.BlockSizeBytes);
                long lba = at / device.BlockSizeBytes;
                if ((lba + blocks) * device.BlockSizeBytes > Size) continue;
                var blockInto = backing.AsSpan(skew, blocks * device.BlockSizeBytes);
                device.Read(new Core.Units.Lba(lba), blockInto);
                Assert.True(blockInto.SequenceEqual(now.AsSpan((int)(lba * device.BlockSizeBytes), blockInto.Length)),
                    $"FileBlockDevice: {blocks} blocks at LBA {lba} into memory skewed by {skew}");
            }
            Assert.Throws<EndOfStreamException>(() => source.ReadAt(Size - 100, new byte[101]));
        }
        finally
        {
            Tool.TryRun("losetup", ["-d", loop]);
        }
    }
}
