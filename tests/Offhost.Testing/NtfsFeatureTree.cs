namespace Offhost.Testing;

/// <summary>
/// The content of the NTFS feature test volume, shared by the map tests and the backup tests: a bash script run
/// in an ntfs-3g mount (streams_interface=xattr, compression) that writes resident and just-non-resident files, a
/// large file, a file fragmented enough to need an $ATTRIBUTE_LIST, sparse files, alternate data streams, hard links,
/// symlinks, unicode and 255-character names, compressed files, attribute flags and deep directories.
/// </summary>
public static class NtfsFeatureTree
{
    public static readonly string Script = """
        mkdir small
        for n in 0 1 100 400 600 650 680 700 720 740 760 800 900 1000 2000 4095 4096 4097; do head -c $n /dev/urandom > small/f$n; done
        head -c $((24 * 1024 * 1024)) /dev/urandom > large.bin
        # Fragmentation: two files taking turns in the last free clusters get one run per cluster.
        """ + NtfsVolumeBuilder.InterleavedAppendScript("filler", 1300, "fragmented.bin", "companion.bin", 600) + """
        rm filler
        truncate -s 50M sparse-middle
        printf 'in the middle' | dd of=sparse-middle bs=1 seek=20000000 conv=notrunc status=none
        dd if=/dev/urandom of=sparse-tail bs=4096 seek=1000 count=3 status=none
        truncate -s 1M sparse-empty
        head -c 5000 /dev/urandom > short-init
        truncate -s 300000 short-init
        echo 'main stream' > ads.txt
        setfattr -n user.small -v 'hello stream' ads.txt
        python3 -c "import os; os.setxattr('ads.txt', 'user.big', os.urandom(60000))"
        mkdir adsdir
        setfattr -n user.ondir -v 'a stream on a directory' adsdir
        echo linked > hl1
        mkdir other
        ln hl1 other/hl2
        ln hl1 hl3
        ln -s hl1 sym-rel
        ln -s /absolute/target/path sym-abs
        mkdir d
        ln -s ../d d/loop-up
        echo unicode > 'héllo wörld ☃ 日本語.txt'
        mkdir 'ディレクトリ'
        echo nested > 'ディレクトリ/файл'
        long=$(printf 'L%.0s' $(seq 1 255))
        echo long > "$long"
        mkdir comp
        setfattr -n system.ntfs_attrib_be -v 0x00000800 comp
        head -c 300000 < <(yes 'a compressible line of text for LZNT1') > comp/text.txt
        head -c 200000 /dev/urandom > comp/random.bin
        { head -c 70000 < <(yes 'mixed'); head -c 70000 /dev/urandom; head -c 70000 < <(yes 'tail'); } > comp/mixed.bin
        printf 'tiny' > comp/tiny.txt
        truncate -s 300000 comp/sparse.txt
        printf 'end' >> comp/sparse.txt
        echo ro > readonly.txt
        setfattr -n system.ntfs_attrib_be -v 0x00000021 readonly.txt
        echo hidden > hidden.txt
        setfattr -n system.ntfs_attrib_be -v 0x00000022 hidden.txt
        mkdir -p deep/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p
        echo deep > deep/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/leaf
        : > empty
        mkdir emptydir
        """;
}
