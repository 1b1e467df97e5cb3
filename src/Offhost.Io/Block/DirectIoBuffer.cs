using System.Buffers;
using System.Runtime.InteropServices;

namespace Offhost.Io.Block;

/// <summary>
/// Native memory aligned for O_DIRECT (address, and therefore any block-multiple slice, aligned to <see cref="AlignmentBytes"/>),
/// exposed as <see cref="Memory{T}"/>. Allocated once and reused; the owner must not dispose it while an I/O uses it.
/// Not thread-safe to dispose; concurrent I/O on disjoint slices is fine.
/// </summary>
public sealed unsafe class DirectIoBuffer : MemoryManager<byte>
{
    public const int DefaultAlignmentBytes = 4096;

    byte* pointer;
    readonly int lengthBytes;

    public DirectIoBuffer(int lengthBytes, int alignmentBytes = DefaultAlignmentBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lengthBytes);
        if (alignmentBytes <= 0 || (alignmentBytes & (alignmentBytes - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(alignmentBytes), alignmentBytes, "must be a power of two");
        this.lengthBytes = lengthBytes;
        AlignmentBytes = alignmentBytes;
        pointer = (byte*)NativeMemory.AlignedAlloc((nuint)lengthBytes, (nuint)alignmentBytes);
    }

    /// <summary>True when <paramref name="span"/> starts at an address aligned to <paramref name="alignmentBytes"/>.</summary>
    public static bool IsAligned(ReadOnlySpan<byte> span, int alignmentBytes)
    {
        fixed (byte* p = span) return ((nuint)p & (nuint)(alignmentBytes - 1)) == 0;
    }

    public int AlignmentBytes { get; }
    public int LengthBytes => lengthBytes;

    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(pointer == null, this);
        return new Span<byte>(pointer, lengthBytes);
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ObjectDisposedException.ThrowIf(pointer == null, this);
        if ((uint)elementIndex > (uint)lengthBytes) throw new ArgumentOutOfRangeException(nameof(elementIndex));
        return new MemoryHandle(pointer + elementIndex);
    }

    public override void Unpin() { }

    protected override void Dispose(bool disposing)
    {
        if (pointer == null) return;
        NativeMemory.AlignedFree(pointer);
        pointer = null;
    }
}
