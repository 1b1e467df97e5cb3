using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Offhost.Core.Mapping;
using Offhost.Io.Native;

namespace Offhost.Io.FileSystems;

/// <summary>What statx(2) says about a path: type, size, times with nanoseconds, the device it lives on and,
/// for device nodes, the device it is.</summary>
public readonly record struct FileStatus(
    uint Mode, long SizeBytes, long ModifiedNanoseconds, long ChangedNanoseconds,
    uint DeviceMajor, uint DeviceMinor, uint RdevMajor, uint RdevMinor)
{
    const int BufferBytes = 256;

    public bool IsBlockDevice => (Mode & 0xF000) == 0x6000;
    public bool IsDirectory => (Mode & 0xF000) == 0x4000;
    public bool IsRegularFile => (Mode & 0xF000) == 0x8000;

    /// <summary>What special file this is (from the file type in <see cref="Mode"/>); null for files, directories and symlinks.</summary>
    public SpecialFileKind? Special => SpecialFiles.FromMode(Mode);

    /// <summary>For character and block devices, the device number the node stands for (st_rdev); null otherwise.</summary>
    public DeviceNumber? Device => Special is { } k && SpecialFiles.HasDevice(k) ? new DeviceNumber(RdevMajor, RdevMinor) : null;

    /// <summary>statx of <paramref name="path"/> itself (lstat semantics: a final symlink is not followed), as a
    /// tree walk over a mounted file system needs it to see FIFOs, device nodes and sockets for what they are.</summary>
    public static FileStatus OfLink(string path) => Stat(path, LibcFs.AT_SYMLINK_NOFOLLOW);

    /// <summary>statx of <paramref name="path"/>, following symlinks (so /dev/disk/by-id links resolve).</summary>
    public static FileStatus Of(string path) => Stat(path, 0);

    static unsafe FileStatus Stat(string path, int flags)
    {
        byte* buf = stackalloc byte[BufferBytes];
        new Span<byte>(buf, BufferBytes).Clear();
        if (LibcFs.Statx(LibcFs.AT_FDCWD, path, flags, LibcFs.STATX_BASIC_STATS, buf) != 0)
            throw new FileSystemCallException("statx", path, Marshal.GetLastSystemError());
        return Parse(new ReadOnlySpan<byte>(buf, BufferBytes));
    }

    /// <summary>Decodes a <c>struct statx</c> (fixed layout on every architecture, see &lt;linux/stat.h&gt;).</summary>
    public static FileStatus Parse(ReadOnlySpan<byte> b)
    {
        if (b.Length < 144) throw new ArgumentException("struct statx is 144 bytes or more", nameof(b));
        // Saturates instead of overflowing: only equality of these values matters to callers.
        static long Ns(ReadOnlySpan<byte> t)
        {
            long seconds = Math.Clamp(BinaryPrimitives.ReadInt64LittleEndian(t), -9_000_000_000L, 9_000_000_000L);
            return seconds * 1_000_000_000L + Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(t[8..]), 999_999_999u);
        }
        return new FileStatus(
            Mode: BinaryPrimitives.ReadUInt16LittleEndian(b[28..]),
            SizeBytes: BinaryPrimitives.ReadInt64LittleEndian(b[40..]),
            ModifiedNanoseconds: Ns(b[112..]),
            ChangedNanoseconds: Ns(b[96..]),
            DeviceMajor: BinaryPrimitives.ReadUInt32LittleEndian(b[136..]),
            DeviceMinor: BinaryPrimitives.ReadUInt32LittleEndian(b[140..]),
            RdevMajor: BinaryPrimitives.ReadUInt32LittleEndian(b[128..]),
            RdevMinor: BinaryPrimitives.ReadUInt32LittleEndian(b[132..]));
    }
}
