using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Core.Units;
using Offhost.Io.Native;
using Offhost.Scsi.Identification;

namespace Offhost.Io.Block;

/// <summary>How to open a <see cref="FileBlockDevice"/>.</summary>
public sealed record FileBlockDeviceOptions
{
    /// <summary>Open for writing. Copy sources must stay read-only (the default).</summary>
    public bool Writable { get; init; }

    /// <summary>Try O_DIRECT (bypass the page cache) for aligned I/O; falls back to buffered I/O when the file system refuses it.</summary>
    public bool DirectIo { get; init; }

    /// <summary>Explicit 16-byte NAA 6 designator; otherwise taken from a "&lt;path&gt;.naa" file beside an image, or derived.</summary>
    public byte[]? NaaDesignator { get; init; }
}

/// <summary>
/// <see cref="IBlockDevice"/> over an image file or a Linux block device, with positional asynchronous I/O
/// (<see cref="RandomAccess"/>) on one handle, so concurrent reads never share a file position. Size and logical block size
/// come from BLKGETSIZE64/BLKSSZGET for block devices (512-byte blocks for images). With <see cref="FileBlockDeviceOptions.DirectIo"/>
/// a second O_DIRECT handle is probed once at open and used for I/O whose buffer address, offset and length are 4 KiB
/// aligned (e.g. <see cref="DirectIoBuffer"/>); other I/O goes through the page cache.
/// A block device is always read past the page cache (<see cref="UncachedReader"/>): its cache does not see what a mounted
/// file system or another host writes, and would hand out old data.
/// Identity: <see cref="NaaDesignator"/> is stable across runs (see docs/datamover.md). Thread-safe.
/// </summary>
public sealed class FileBlockDevice : IBlockDevice, ISynchronousBlockReader
{
    const int DirectAlignmentBytes = 4096;

    readonly SafeFileHandle handle;
    readonly SafeFileHandle? direct;
    readonly UncachedReader? uncached;
    readonly long lengthBytes;
    readonly WriteBehind? writeBehind;

    /// <summary>Buffered writes at least this long start their write-back at once (see <see cref="WriteBehind"/>).</summary>
    const int WriteBehindMinBytes = 1 << 20;

    FileBlockDevice(string path, SafeFileHandle handle, SafeFileHandle? direct, FileBlockDeviceOptions options)
    {
        Path = path;
        this.handle = handle;
        this.direct = direct;
        IsReadOnly = !options.Writable;
        if (options.Writable) writeBehind = new WriteBehind(handle);
        lengthBytes = DeviceGeometry.GetLengthBytes(handle, path);
        BlockSizeBytes = DeviceGeometry.GetLogicalBlockSize(handle, path);
        BlockCount = lengthBytes / BlockSizeBytes;
        NaaDesignator = options.NaaDesignator is { } n ? CheckNaa(n) : IdentityDesignator(path);
        DeviceId = Scsi.Identification.NaaDesignator.ToDeviceId(NaaDesignator);
        if (DeviceGeometry.IsBlockDevice(path)) uncached = UncachedReader.Open(path, BlockSizeBytes);
    }

    /// <summary>Opens <paramref name="path"/>; read-only unless <see cref="FileBlockDeviceOptions.Writable"/>.</summary>
    public static FileBlockDevice Open(string path, FileBlockDeviceOptions? options = null)
    {
        options ??= new FileBlockDeviceOptions();
        string full = System.IO.Path.GetFullPath(path);
        SafeFileHandle h;
        try
        {
            h = File.OpenHandle(full, FileMode.Open, options.Writable ? FileAccess.ReadWrite : FileAccess.Read, FileShare.ReadWrite, FileOptions.Asynchronous);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            throw new UserFacingException($"{full}: cannot open: {e.Message}", e, 2);
        }
        SafeFileHandle? d = null;
        try
        {
            if (options.DirectIo && OperatingSystem.IsLinux()) d = TryOpenDirect(full, options.Writable);
            return new FileBlockDevice(full, h, d, options);
        }
        catch
        {
            d?.Dispose();
            h.Dispose();
            throw;
        }
    }

    internal static SafeFileHandle? TryOpenDirect(string path, bool writable)
    {
        int fd = LibcOpen.Open(path, (writable ? LibcOpen.O_RDWR : LibcOpen.O_RDONLY) | LibcOpen.O_DIRECT | LibcOpen.O_CLOEXEC, 0);
        if (fd < 0) return null;                                  // EINVAL: the file system has no O_DIRECT (tmpfs); stay buffered
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    public string Path { get; }
    public string DeviceId { get; }
    /// <summary>16-byte NAA 6 designator under which the device is registered with a copy manager.</summary>
    public byte[] NaaDesignator { get; }
    public int BlockSizeBytes { get; }
    public long BlockCount { get; }
    public bool IsReadOnly { get; }
    /// <summary>True when an O_DIRECT handle is open (aligned I/O bypasses the page cache).</summary>
    public bool UsesDirectIo => direct is not null;

    /// <summary>Reads on the calling thread and completes synchronously, as <see cref="WriteAsync"/> writes (a file read
    /// "asynchronously" on Linux is the same pread run by a thread-pool thread).</summary>
    public ValueTask ReadAsync(Lba lba, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Read(lba, buffer.Span);
        return ValueTask.CompletedTask;
    }

    /// <summary>Reads whole blocks at <paramref name="lba"/> on the calling thread.</summary>
    public void Read(Lba lba, Span<byte> buffer)
    {
        long offset = CheckRange(lba, buffer.Length);
        int done = uncached is not null
            ? uncached.ReadUpTo(buffer, offset)
            : PositionalRead.ReadUpTo(PickHandle(buffer, offset), buffer, offset, Path);
        if (done < buffer.Length) throw new IOException($"{Path}: unexpected end of device at byte offset {offset + done}");
    }

    /// <summary>Writes on the calling thread and completes synchronously: on Linux an "asynchronous" file write is the same
    /// pwrite run by a thread-pool thread, and a volume restore of many small files paid a thread hop per file for it.</summary>
    public ValueTask WriteAsync(Lba lba, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (IsReadOnly) throw new InvalidOperationException($"{Path} is open read-only");
        long offset = CheckRange(lba, buffer.Length);
        var h = PickHandle(buffer.Span, offset);
        try
        {
            RandomAccess.Write(h, buffer.Span, offset);
        }
        catch (IOException e)
        {
            throw new IOException($"{Path}: write error at byte offset {offset}: {e.Message}", e);
        }
        // A restore writes the volume in large pieces and fsyncs at the end: start each piece on its way to the disk now.
        if (ReferenceEquals(h, handle) && buffer.Length >= WriteBehindMinBytes) writeBehind?.Start(offset, buffer.Length);
        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (IsReadOnly) return ValueTask.CompletedTask;
        if (LibcOpen.Fsync((int)handle.DangerousGetHandle()) != 0)
            throw new IOException($"{Path}: fsync failed (errno {Marshal.GetLastPInvokeError()})");
        return ValueTask.CompletedTask;
    }

    long CheckRange(Lba lba, int lengthBytes)
    {
        if (lengthBytes % BlockSizeBytes != 0)
            throw new ArgumentException($"{lengthBytes} bytes is not a whole number of {BlockSizeBytes}-byte blocks", nameof(lengthBytes));
        if (lba.Value < 0 || lba.Value > BlockCount || lengthBytes / BlockSizeBytes > BlockCount - lba.Value)
            throw new ArgumentOutOfRangeException(nameof(lba), $"{Path}: {lba} + {lengthBytes / BlockSizeBytes} blocks is beyond the {BlockCount} blocks of the device");
        return lba.ToByteOffset(BlockSizeBytes);
    }

    SafeFileHandle PickHandle(ReadOnlySpan<byte> buffer, long offset) =>
        direct is not null && offset % DirectAlignmentBytes == 0 && buffer.Length % DirectAlignmentBytes == 0
            && DirectIoBuffer.IsAligned(buffer, DirectAlignmentBytes)
            ? direct
            : handle;

    static byte[] CheckNaa(byte[] naa) =>
        naa.Length == Scsi.Identification.NaaDesignator.Naa6LengthBytes && naa[0] >> 4 == 6
            ? naa
            : throw new ArgumentException("the NAA designator must be 16 bytes of NAA 6", nameof(naa));

    /// <summary>
    /// The identity a designator is derived from. Images: a "&lt;image&gt;.naa" file beside it (32 hex digits) wins; otherwise
    /// SHA-256 of the absolute path, the file system's device number and the inode, so a copied or recreated image gets a new
    /// designator. Block devices: the kernel's WWID when it has one, else the path and device number.
    /// </summary>
    static byte[] IdentityDesignator(string path)
    {
        if (File.Exists(path + ".naa") && Scsi.Identification.NaaDesignator.TryParse(File.ReadAllText(path + ".naa")) is { } stored)
            return stored;
        var id = new StringBuilder(path);
        if (DeviceGeometry.IsBlockDevice(path))
        {
            string name = System.IO.Path.GetFileName(File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? path);
            foreach (var wwid in new[] { $"/sys/class/block/{name}/wwid", $"/sys/class/block/{name}/device/wwid" })
            {
                if (File.Exists(wwid)) return Scsi.Identification.NaaDesignator.Naa6FromIdentity("wwid:" + File.ReadAllText(wwid).Trim());
            }
        }
        Span<byte> stx = stackalloc byte[LibcOpen.StatxBufferBytes];
        if (OperatingSystem.IsLinux() && LibcOpen.Statx(LibcOpen.AT_FDCWD, path, 0, LibcOpen.STATX_INO, stx) == 0)
        {
            id.Append('\0').Append(BinaryPrimitives.ReadUInt64LittleEndian(stx[LibcOpen.StatxInoOffset..]))
              .Append('\0').Append(BinaryPrimitives.ReadUInt32LittleEndian(stx[LibcOpen.StatxDevMajorOffset..]))
              .Append(':').Append(BinaryPrimitives.ReadUInt32LittleEndian(stx[(LibcOpen.StatxDevMajorOffset + 4)..]))
              .Append('\0').Append(BinaryPrimitives.ReadUInt32LittleEndian(stx[LibcOpen.StatxRdevMajorOffset..]))
              .Append(':').Append(BinaryPrimitives.ReadUInt32LittleEndian(stx[(LibcOpen.StatxRdevMajorOffset + 4)..]));
        }
        return Scsi.Identification.NaaDesignator.Naa6FromIdentity(id.ToString());
    }

    public ValueTask DisposeAsync()
    {
        direct?.Dispose();
        uncached?.Dispose();
        handle.Dispose();
        return ValueTask.CompletedTask;
    }
}
