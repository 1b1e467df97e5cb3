using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Testing;

namespace Offhost.Formats.Ext4.Tests;

/// <summary>Arbitrary bytes into every parser: the only exception allowed is <see cref="CorruptStructureException"/>.</summary>
public sealed class ParserPropertyTests
{
    static void OnlyDomainErrors(Action a)
    {
        try { a(); }
        catch (CorruptStructureException) { }
    }

    /// <summary>A valid 1024-byte superblock: 4 KiB blocks, 8192 blocks, one group of 2048 256-byte inodes.</summary>
    internal static byte[] SyntheticSuperblock(bool metadataCsum)
    {
        var s = new byte[1024];
        BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(0x0), 2048);
        BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(0x4), 8192);
        BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(0x18), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(0x20), 32768);
        BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(0x28), 2048);
        BinaryPrimitives.WriteUInt16LittleEndian(s.AsSpan(0x38), 0xEF53);
        BinaryPrimitives.WriteUInt16LittleEndian(s.AsSpan(0x3A), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(0x4C), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(0x54), 11);
        BinaryPrimitives.WriteUInt16LittleEndian(s.AsSpan(0x58), 256);
        BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(0x60), 0x2 | 0x40);
        if (metadataCsum)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(0x64), 0x400);
            s[0x175] = 1;
            BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(0x3FC), Ext4Crc.Crc32C(~0u, s.AsSpan(0, 0x3FC)));
        }
        return s;
    }

    static readonly Ext4Superblock Plain = Ext4Superblock.Read(SyntheticSuperblock(false), 1024, 8192L * 4096);
    static readonly Ext4Superblock Csum = Ext4Superblock.Read(SyntheticSuperblock(true), 1024, 8192L * 4096);

    [Property(MaxTest = 2000)]
    public void Superblock_parser_accepts_or_reports(byte[] bytes, bool forceMagic, long volumeLength)
    {
        var s = SyntheticSuperblock(false);
        bytes.AsSpan(0, Math.Min(bytes.Length, 1024)).CopyTo(s);
        if (forceMagic) BinaryPrimitives.WriteUInt16LittleEndian(s.AsSpan(0x38), 0xEF53);
        OnlyDomainErrors(() => Ext4Superblock.Read(s.AsSpan(0, bytes.Length % 2 == 0 ? 1024 : Math.Min(1024, bytes.Length)), 1024, volumeLength & long.MaxValue));
        var probe = new byte[2048];
        s.CopyTo(probe, 1024);
        _ = Ext4Volume.Probe(probe);
        _ = Ext4Volume.Probe(bytes);
    }

    [Property(MaxTest = 2000)]
    public void Superblock_fields_mutated_one_at_a_time(int field, int value)
    {
        var s = SyntheticSuperblock(false);
        int at = (int)((uint)field % 0x400) & ~3;
        BinaryPrimitives.WriteInt32LittleEndian(s.AsSpan(at), value);
        OnlyDomainErrors(() => Ext4Superblock.Read(s, 1024, 8192L * 4096));
    }

    [Property(MaxTest = 2000)]
    public void Inode_parser_accepts_or_reports(byte[] bytes, bool csum, uint number)
    {
        var raw = new byte[256];
        bytes.AsSpan(0, Math.Min(bytes.Length, 256)).CopyTo(raw);
        OnlyDomainErrors(() =>
        {
            var inode = Ext4Inode.Read(raw, number, 4096, csum ? Csum : Plain);
            _ = inode.FlagList();
            _ = inode.Modified.ToString();
        });
        OnlyDomainErrors(() => Ext4Inode.Read(bytes, number, 4096, Plain));
    }

    static Ext4Inode ExtentInode(byte[] iblock)
    {
        var raw = new byte[256];
        BinaryPrimitives.WriteUInt16LittleEndian(raw.AsSpan(0), 0x81A4);
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(0x20), Ext4Inode.FlagExtents);
        iblock.AsSpan(0, Math.Min(60, iblock.Length)).CopyTo(raw.AsSpan(0x28));
        return Ext4Inode.Read(raw, 12, 8192, Plain);
    }

    static readonly byte[] Disk = new byte[8192 * 4096];

    [Property(MaxTest = 1000)]
    public void Extent_tree_walker_accepts_or_reports(byte[] root, byte[] device, ushort entries, ushort depth, bool indirect)
    {
        var iblock = new byte[60];
        root.AsSpan(0, Math.Min(60, root.Length)).CopyTo(iblock);
        BinaryPrimitives.WriteUInt16LittleEndian(iblock, 0xF30A);
        BinaryPrimitives.WriteUInt16LittleEndian(iblock.AsSpan(2), (ushort)(entries % 6));
        BinaryPrimitives.WriteUInt16LittleEndian(iblock.AsSpan(4), 4);
        BinaryPrimitives.WriteUInt16LittleEndian(iblock.AsSpan(6), (ushort)(depth % 7));
        // The first 32 KiB of the device are arbitrary bytes where every block starts with the extent magic, so trees go deep.
        var dev = Disk;
        for (int i = 0; i < 32768; i++) dev[i] = device.Length == 0 ? (byte)i : device[i % device.Length];
        for (int b = 0; b < 32768; b += 4096) BinaryPrimitives.WriteUInt16LittleEndian(dev.AsSpan(b), 0xF30A);
        var volume = new MemoryBlockSource(dev);
        var map = new Ext4BlockMap(volume, Plain, 0);
        var inode = indirect ? Ext4Inode.Read(new byte[256].Select((_, i) => i >= 0x28 && i < 0x64 ? iblock[(i - 0x28)] : (byte)0).ToArray(), 13, 0, Plain) : ExtentInode(iblock);
        OnlyDomainErrors(() => map.GetRuns(inode, 1UL << 32, []));
    }

    [Property(MaxTest = 3000)]
    public void Directory_block_parser_accepts_or_reports(byte[] bytes, bool fileType, bool indexed, uint seed)
    {
        var block = new byte[1024];
        bytes.AsSpan(0, Math.Min(bytes.Length, 1024)).CopyTo(block);
        var names = new List<Ext4DirectoryEntry>();
        OnlyDomainErrors(() => Ext4DirectoryBlock.Read(block, 0, fileType, names));
        OnlyDomainErrors(() => Ext4DirectoryBlock.Read(bytes, 0, fileType, names));
        OnlyDomainErrors(() => Ext4DirectoryBlock.VerifyChecksum(block, 0, seed, indexed, seed % 2));
    }

    [Property(MaxTest = 1000)]
    public void A_name_prefix_gives_the_prefix_and_the_same_name(byte[] name, string prefix)
    {
        // Any name bytes, valid UTF-8 or not, decode after the prefix exactly as they decode alone.
        var raw = name.Where(b => b is not (0 or (byte)'/')).Take(255).ToArray();
        if (raw.Length == 0 || raw is [(byte)'.'] or [(byte)'.', (byte)'.']) return;
        var block = new byte[1024];
        BinaryPrimitives.WriteUInt32LittleEndian(block, 12);
        BinaryPrimitives.WriteUInt16LittleEndian(block.AsSpan(4), 1024);
        block[6] = (byte)raw.Length;
        block[7] = 1;
        raw.CopyTo(block, 8);
        var plain = new List<Ext4DirectoryEntry>();
        var prefixed = new List<Ext4DirectoryEntry>();
        Ext4DirectoryBlock.Read(block, 0, true, plain);
        Ext4DirectoryBlock.Read(block, 0, true, prefixed, prefix ?? "");
        Assert.Equal(System.Text.Encoding.UTF8.GetString(raw), Assert.Single(plain).Name);
        Assert.Equal((prefix ?? "") + plain[0].Name, Assert.Single(prefixed).Name);
        Assert.Equal(plain[0] with { Name = "" }, prefixed[0] with { Name = "" });
    }

    [Property(MaxTest = 3000)]
    public void Xattr_parsers_accept_or_report(byte[] bytes, bool withChecksum)
    {
        var block = new byte[1024];
        bytes.AsSpan(0, Math.Min(bytes.Length, 1024)).CopyTo(block);
        BinaryPrimitives.WriteUInt32LittleEndian(block, Ext4Xattr.Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(8), 1);
        var into = new Dictionary<string, ReadOnlyMemory<byte>>();
        OnlyDomainErrors(() => Ext4Xattr.ReadBlock(block, 7, 7168, withChecksum ? 123u : null, into, []));
        OnlyDomainErrors(() => Ext4Xattr.ReadBlock(bytes, 7, 7168, null, into, []));
        var area = new byte[Math.Max(4, bytes.Length)];
        bytes.CopyTo(area, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(area, Ext4Xattr.Magic);
        OnlyDomainErrors(() => Ext4Xattr.ReadInodeBody(area, 0, into, []));
        OnlyDomainErrors(() => Ext4Xattr.AclToXattr(bytes, 0));
    }

    [Property(MaxTest = 1000)]
    public void Group_descriptor_checksum_and_parse_never_throw_unexpectedly(byte[] bytes, uint group)
    {
        var d = new byte[64];
        bytes.AsSpan(0, Math.Min(64, bytes.Length)).CopyTo(d);
        OnlyDomainErrors(() => Ext4GroupDescriptor.Read(bytes, 32, 0));
        _ = Ext4GroupDescriptor.ComputeChecksum(Csum, group, d);
        _ = Ext4GroupDescriptor.ComputeChecksum(Plain, group, d);
    }

    [Fact]
    public void Crc32C_matches_the_standard_check_value()
    {
        // CRC-32C of "123456789" is 0xE3069283 with the usual pre- and post-inversion.
        Assert.Equal(0xE3069283u, ~Ext4Crc.Crc32C(~0u, "123456789"u8));
        // CRC-16/ARC of "123456789" is 0xBB3D (initial 0).
        Assert.Equal(0xBB3D, Ext4Crc.Crc16(0, "123456789"u8));
    }
}
