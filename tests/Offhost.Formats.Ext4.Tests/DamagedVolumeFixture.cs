using Offhost.Testing;

namespace Offhost.Formats.Ext4.Tests;

/// <summary>Small clean images that damage tests copy and then patch: ext4 without and with metadata_csum, and ext2 with 1 KiB blocks.</summary>
public sealed class DamagedVolumeFixture : IDisposable
{
    public Scratch Scratch { get; } = new("ext4-damage");
    public string Plain { get; }
    public string Csum { get; }
    public string Ext2 { get; }

    public DamagedVolumeFixture()
    {
        string src = Scratch["src"];
        Directory.CreateDirectory(src);
        Tool.Bash($"""
            cd '{src}'
            mkdir -p dir other
            for i in $(seq 1 20); do echo "file $i" > dir/f$i; done
            echo keep > other/keep
            head -c 20000 /dev/urandom > one-extent
            truncate -s 4M pieces
            for i in $(seq 0 9); do head -c 4096 /dev/urandom | dd of=pieces bs=4096 seek=$((i * 50)) conv=notrunc status=none; done
            head -c 307200 /dev/urandom > indirect
            echo attrs > xattr-file
            setfattr -n user.big -v "$(head -c 500 /dev/zero | tr '\0' 'b')" xattr-file
            """);
        Plain = Ext4VolumeBuilder.Create(Scratch["plain.img"], 32L << 20, "ext4", src, "-b", "4096", "-I", "256", "-O", "^metadata_csum");
        Csum = Ext4VolumeBuilder.Create(Scratch["csum.img"], 32L << 20, "ext4", src, "-b", "4096", "-I", "256", "-O", "metadata_csum");
        Ext2 = Ext4VolumeBuilder.Create(Scratch["ext2.img"], 16L << 20, "ext2", src, "-b", "1024");
    }

    /// <summary>A private copy of one of the images for a test to damage.</summary>
    public string Copy(string image)
    {
        string copy = Scratch[$"{Guid.NewGuid():N}.img"];
        File.Copy(image, copy);
        return copy;
    }

    public void Dispose() => Scratch.Dispose();
}
