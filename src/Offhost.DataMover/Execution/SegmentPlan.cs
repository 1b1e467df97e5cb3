using Offhost.Core.Devices;
using Offhost.Scsi.ExtendedCopy;

namespace Offhost.DataMover.Execution;

/// <summary>What happens to residual data at the end of a segment (SPC "inexact segments": CAT, PAD).</summary>
internal enum EndAction
{
    /// <summary>The segment's data is a whole number of destination records/blocks.</summary>
    Exact,
    /// <summary>CAT=1: keep the residual for the next segment.</summary>
    Carry,
    /// <summary>Destination PAD on a variable-mode stream: write the residual as a final shorter record.</summary>
    FlushShort,
    /// <summary>Destination PAD on a fixed-mode stream: pad the residual with zeros to a full record.</summary>
    PadRecord,
    /// <summary>Source PAD: discard the residual.</summary>
    Strip,
    /// <summary>Destination PAD on a block device: zero-fill the rest of the last destination block.</summary>
    PadBlock,
}

/// <summary>A segment checked against the devices before any data moves. Byte offsets are device byte offsets.</summary>
internal abstract record SegmentPlan(int Index, SegmentDescriptor Descriptor)
{
    public bool Hold => Descriptor.TypeCode is DescriptorTypeCodes.BlockToStreamHold or DescriptorTypeCodes.StreamToBlockHold
        or DescriptorTypeCodes.BlockToBlockHold or DescriptorTypeCodes.StreamToDiscardHold;
}

/// <summary>A segment that writes a stream device: its bytes come from a block device or from the parameter list.</summary>
internal interface IToStreamPlan
{
    int Index { get; }
    long LengthBytes { get; }
    IStreamDevice Destination { get; }
    int RecordBytes { get; }
    EndAction End { get; }
    bool Hold { get; }
}

internal sealed record BlockToStreamPlan(int Index, SegmentDescriptor Descriptor, IBlockDevice Source, long SourceOffsetBytes,
    long LengthBytes, IStreamDevice Destination, int RecordBytes, EndAction End) : SegmentPlan(Index, Descriptor), IToStreamPlan;

internal sealed record BlockToBlockPlan(int Index, SegmentDescriptor Descriptor, IBlockDevice Source, long SourceOffsetBytes,
    long LengthBytes, IBlockDevice Destination, long DestinationOffsetBytes, EndAction End) : SegmentPlan(Index, Descriptor);

internal sealed record MemoryToStreamPlan(int Index, SegmentDescriptor Descriptor, ReadOnlyMemory<byte> Data,
    IStreamDevice Destination, int RecordBytes, EndAction End) : SegmentPlan(Index, Descriptor), IToStreamPlan
{
    public long LengthBytes => Data.Length;
}

/// <summary>Stream to block device, or to nowhere (<see cref="Destination"/> null: stream→discard).</summary>
internal sealed record StreamToBlockPlan(int Index, SegmentDescriptor Descriptor, IStreamDevice Source, int RecordBytes, bool FixedRecords,
    bool SourcePad, IBlockDevice? Destination, long DestinationOffsetBytes, long LengthBytes) : SegmentPlan(Index, Descriptor);

internal sealed record VerifyPlan(int Index, SegmentDescriptor Descriptor, RegisteredDevice Device) : SegmentPlan(Index, Descriptor);

internal sealed record TapeOperationPlan(int Index, SegmentDescriptor Descriptor, IStreamDevice Device) : SegmentPlan(Index, Descriptor);
