namespace Offhost.Core.Mapping;

/// <summary>What a <see cref="MapEntryKind.Special"/> entry is: a file whose meaning is its type (and, for devices,
/// its device number), not its bytes.</summary>
public enum SpecialFileKind { Fifo, CharDevice, BlockDevice, Socket }

/// <summary>A device number as Linux splits it: major (the driver) and minor (the unit). Both are plain numbers,
/// not an encoded <c>dev_t</c>.</summary>
public readonly record struct DeviceNumber(uint Major, uint Minor)
{
    public override string ToString() => $"{Major},{Minor}";
}

/// <summary>Names, POSIX file-type bits and helpers for special files. Pure and thread-safe.</summary>
public static class SpecialFiles
{
    /// <summary>POSIX <c>S_IFMT</c> and the file types of special files (the same values on every Linux architecture).</summary>
    public const uint TypeMask = 0xF000, TypeFifo = 0x1000, TypeChar = 0x2000, TypeBlock = 0x6000, TypeSocket = 0xC000;

    /// <summary>The storage map's <c>"type"</c> value (and the name <c>offhost files</c> shows).</summary>
    public static string Name(SpecialFileKind kind) => kind switch
    {
        SpecialFileKind.Fifo => "fifo",
        SpecialFileKind.CharDevice => "chardev",
        SpecialFileKind.BlockDevice => "blockdev",
        SpecialFileKind.Socket => "socket",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a special file kind"),
    };

    /// <summary>The kind named <paramref name="name"/> (<see cref="Name"/>), or null.</summary>
    public static SpecialFileKind? Parse(string? name) => name switch
    {
        "fifo" => SpecialFileKind.Fifo,
        "chardev" => SpecialFileKind.CharDevice,
        "blockdev" => SpecialFileKind.BlockDevice,
        "socket" => SpecialFileKind.Socket,
        _ => null,
    };

    /// <summary>The special kind of a POSIX mode's file type; null for regular files, directories, symlinks and unknown types.</summary>
    public static SpecialFileKind? FromMode(uint mode) => (mode & TypeMask) switch
    {
        TypeFifo => SpecialFileKind.Fifo,
        TypeChar => SpecialFileKind.CharDevice,
        TypeBlock => SpecialFileKind.BlockDevice,
        TypeSocket => SpecialFileKind.Socket,
        _ => null,
    };

    /// <summary>The POSIX file-type bits of <paramref name="kind"/> (<c>S_IFIFO</c>, <c>S_IFCHR</c>, …).</summary>
    public static uint TypeBits(SpecialFileKind kind) => kind switch
    {
        SpecialFileKind.Fifo => TypeFifo,
        SpecialFileKind.CharDevice => TypeChar,
        SpecialFileKind.BlockDevice => TypeBlock,
        SpecialFileKind.Socket => TypeSocket,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a special file kind"),
    };

    /// <summary>True for character and block devices, the kinds that carry a <see cref="DeviceNumber"/>.</summary>
    public static bool HasDevice(SpecialFileKind kind) => kind is SpecialFileKind.CharDevice or SpecialFileKind.BlockDevice;
}
