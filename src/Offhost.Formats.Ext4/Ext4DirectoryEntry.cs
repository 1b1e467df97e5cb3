namespace Offhost.Formats.Ext4;

/// <summary>One live name of a directory (<c>struct ext4_dir_entry_2</c>): the inode it names, its <c>file_type</c> hint
/// (0 if the volume has no filetype feature), the name (after the prefix the reader was given, if any) and the record's absolute byte offset on the device.</summary>
public readonly record struct Ext4DirectoryEntry(uint Inode, byte FileType, string Name, long DeviceOffset);
