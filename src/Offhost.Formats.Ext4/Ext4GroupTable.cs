using Offhost.Core.Devices;
using Offhost.Core.Errors;

namespace Offhost.Formats.Ext4;

/// <summary>
/// Where each group's inode table lives, read from the group descriptor table (classic layout or meta_bg),
/// checked against the volume and, where present, the descriptor checksums. A damaged descriptor does not stop
/// the volume: it is remembered and every inode of that group is reported unmappable with its message.
/// Memory: 8 bytes per group plus one message per damaged group. Immutable after construction.
/// </summary>
public sealed class Ext4GroupTable
{
    readonly ulong[] inodeTableBlocks;
    readonly Dictionary<uint, CorruptStructureException> damaged = [];

    Ext4GroupTable(ulong[] tables) => inodeTableBlocks = tables;

    public uint GroupCount => (uint)inodeTableBlocks.Length;

    /// <summary>The inode table of <paramref name="group"/>, or the reason it cannot be used.</summary>
    public ulong InodeTableBlock(uint group, out CorruptStructureException? error)
    {
        damaged.TryGetValue(group, out error);
        return inodeTableBlocks[group];
    }

    /// <summary>Byte offset (relative to the volume) of the descriptor block holding <paramref name="group"/>.</summary>
    public static long DescriptorOffsetBytes(Ext4Superblock sb, uint group)
    {
        uint perBlock = (uint)(sb.BlockSizeBytes / sb.DescSizeBytes);
        uint nr = group / perBlock;
        ulong block;
        // The superblock's own block: 1 with 1 KiB blocks even when s_first_data_block is 0 (bigalloc).
        ulong superBlock = sb.BlockSizeBytes == 1024 ? 1UL : 0UL;
        if ((sb.Incompat & Ext4IncompatFeatures.MetaBg) == 0 || nr < sb.FirstMetaBg)
            block = superBlock + 1UL + nr;
        else
        {
            uint bg = nr * perBlock;
            ulong first = sb.FirstDataBlock + (ulong)bg * sb.BlocksPerGroup;
            ulong hasSuper = sb.GroupHasSuperblock(bg) ? 1UL : 0UL;
            if (first == 0 && sb.BlockSizeBytes == 1024) hasSuper++;
            block = first + hasSuper;
        }
        return (long)block * sb.BlockSizeBytes + (long)(group % perBlock) * sb.DescSizeBytes;
    }

    /// <summary>Reads every descriptor. <paramref name="partitionStartBytes"/> turns offsets into device offsets for messages.</summary>
    public static Ext4GroupTable Read(IBlockSource volume, Ext4Superblock sb, long partitionStartBytes)
    {
        uint groups = sb.GroupCount;
        var table = new Ext4GroupTable(new ulong[groups]);
        int bs = sb.BlockSizeBytes;
        var block = new byte[bs];
        long loaded = -1;
        ulong tableBlocks = ((ulong)sb.InodesPerGroup * (ulong)sb.InodeSizeBytes + (ulong)bs - 1) / (ulong)bs;
        for (uint g = 0; g < groups; g++)
        {
            long at = DescriptorOffsetBytes(sb, g);
            long blockAt = at - at % bs;
            long deviceAt = partitionStartBytes + at;
            string structure = $"ext4_group_desc {g}";
            if (blockAt + bs > volume.LengthBytes)
            {
                table.damaged[g] = new CorruptStructureException(structure, deviceAt, "descriptor lies past the end of the volume");
                continue;
            }
            if (blockAt != loaded)
            {
                volume.ReadAt(blockAt, block);
                loaded = blockAt;
            }
            var d = block.AsSpan((int)(at - blockAt), sb.DescSizeBytes);
            var desc = Ext4GroupDescriptor.Read(d, sb.DescSizeBytes, deviceAt);
            table.inodeTableBlocks[g] = desc.InodeTableBlock;
            ushort? want = Ext4GroupDescriptor.ComputeChecksum(sb, g, d);
            if (want is ushort w && w != desc.Checksum)
                table.damaged[g] = new CorruptStructureException(structure, deviceAt, $"checksum mismatch (stored 0x{desc.Checksum:X4}, computed 0x{w:X4})");
            else if (desc.InodeTableBlock < sb.FirstDataBlock + 1UL || desc.InodeTableBlock + tableBlocks > sb.BlocksCount)
                table.damaged[g] = new CorruptStructureException(structure, deviceAt,
                    $"bg_inode_table {desc.InodeTableBlock} (+{tableBlocks} blocks) lies outside the volume (0..{sb.BlocksCount})");
        }
        return table;
    }
}
