namespace Offhost.Formats.Ext4;

/// <summary>A run of a file's logical blocks stored at consecutive physical blocks, all in file-system blocks.</summary>
public readonly record struct Ext4Run(ulong LogicalBlock, ulong PhysicalBlock, ulong Blocks, bool Unwritten)
{
    public ulong EndLogicalBlock => LogicalBlock + Blocks;
}
