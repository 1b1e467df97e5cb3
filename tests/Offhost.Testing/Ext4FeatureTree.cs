namespace Offhost.Testing;

/// <summary>
/// The content of the rich ext4 test volume, shared by the map tests and the backup tests: a tree for
/// <c>mkfs.ext4 -d</c> (deep paths, a 3,000-entry directory, tiny inline-size files, sparse files, hard links,
/// fast and slow symlinks, special files, modes and ids, xattrs, ns times) and what is then written through a
/// read-write loop mount (fragmented appends with fsync, fallocate'd ranges, more xattrs and links).
/// </summary>
public static class Ext4FeatureTree
{
    public static void BuildSourceTree(string src)
    {
        string deep = Path.Combine(src, "deep");
        for (int i = 0; i < 40; i++) deep = Path.Combine(deep, $"d{i}");
        Directory.CreateDirectory(deep);
        File.WriteAllText(Path.Combine(deep, "leaf.txt"), "at the bottom\n");

        Directory.CreateDirectory(Path.Combine(src, "big"));
        for (int i = 0; i < 3000; i++)
            File.WriteAllBytes(Path.Combine(src, "big", $"entry-with-a-longish-name-{i:D5}"), TestData.Random(i, i % 97));

        Directory.CreateDirectory(Path.Combine(src, "tiny"));
        for (int i = 0; i <= 10; i++) File.WriteAllBytes(Path.Combine(src, "tiny", $"t{i}"), TestData.Random(1000 + i, i));

        Directory.CreateDirectory(Path.Combine(src, "data"));
        File.WriteAllBytes(Path.Combine(src, "data", "random-1m"), TestData.Random(1, 1 << 20));
        File.WriteAllBytes(Path.Combine(src, "data", "random-odd"), TestData.Random(2, 12345));

        Directory.CreateDirectory(Path.Combine(src, "sparse"));
        Tool.Bash($"""
            cd '{src}/sparse'
            truncate -s 50M s1
            printf 'head' | dd of=s1 conv=notrunc status=none
            head -c 10000 /dev/urandom | dd of=s1 bs=1 seek=10485760 conv=notrunc status=none
            head -c 777 /dev/urandom | dd of=s1 bs=1 seek=51380224 conv=notrunc status=none
            truncate -s 5M allhole
            """);

        Tool.Bash($"""
            cd '{src}'
            mkdir -p links/sub sym special modes
            echo linked > links/orig && ln links/orig links/h1 && ln links/orig links/sub/h2
            ln -s target-short sym/fast
            ln -s "$(printf 'long/%.0s' $(seq 1 40))end" sym/slow
            ln -s /nonexistent/dangling sym/dangling
            mkfifo special/fifo
            mknod special/null c 1 3
            echo x > modes/suid && chmod 4755 modes/suid
            mkdir modes/sticky && chmod 1777 modes/sticky
            echo y > modes/private && chmod 600 modes/private && chown 1234:5678 modes/private
            echo z > modes/bigids && chown 70000:80000 modes/bigids
            setfattr -n user.color -v red data/random-odd
            setfattr -n trusted.secret -v 0x00ff00 tiny/t3
            touch -d '2001-02-03 04:05:06.123456789' data/random-odd
            """);
    }

    public static void WriteThroughMount(string mnt)
    {
        Directory.CreateDirectory(Path.Combine(mnt, "frag"));
        Directory.CreateDirectory(Path.Combine(mnt, "prealloc"));
        // Stream requests below this size use the shared locality-group preallocation, so interleaved appends from
        // two files take turns in the same free space and both files end up heavily fragmented.
        string dev = Path.GetFileName(Tool.Run("findmnt", "-n", "-o", "SOURCE", mnt).Trim());
        File.WriteAllText($"/sys/fs/ext4/{dev}/mb_stream_req", "1000000");
        using (var a = new FileStream(Path.Combine(mnt, "frag", "a"), FileMode.CreateNew))
        using (var b = new FileStream(Path.Combine(mnt, "frag", "b"), FileMode.CreateNew))
        {
            for (int i = 0; i < 1400; i++)
            {
                a.Write(TestData.Random(10_000 + i, 4096)); a.Flush(true);
                b.Write(TestData.Random(20_000 + i, i % 7 == 0 ? 1000 : 4096)); b.Flush(true);
            }
        }
        Tool.Bash($"""
            cd '{mnt}'
            fallocate -l 2M prealloc/f
            head -c 8192 /dev/urandom | dd of=prealloc/f bs=4096 seek=128 conv=notrunc status=none
            head -c 100 /dev/urandom | dd of=prealloc/f bs=1 seek=1500000 conv=notrunc status=none
            head -c 50000 /dev/urandom > prealloc/keep
            fallocate -o 3M -l 1M --keep-size prealloc/keep
            head -c 8388608 /dev/urandom > data/large
            setfattr -n user.mounted -v hello frag/a
            setfattr -n user.big -v "$(head -c 1000 /dev/zero | tr '\0' 'a')" data/random-1m
            setfattr -n security.label -v 0x0102 frag/b
            touch -d '2019-05-06 07:08:09.987654321' frag/b
            ln -s "$(printf 'x%.0s' $(seq 1 300))" sym/slow-mounted
            ln -s short sym/fast-mounted
            ln frag/a frag/a-link
            touch -d '2300-01-01 00:00:01.5' tiny/t4
            mkdir hashed
            for i in $(seq 1 3000); do echo "$i" > "hashed/name-$i-padding-padding"; done
            sync
            """);
    }

}
