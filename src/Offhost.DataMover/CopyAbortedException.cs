using Offhost.Scsi.ExtendedCopy;
using Offhost.Scsi.Sense;

namespace Offhost.DataMover;

/// <summary>
/// An EXTENDED COPY stopped while processing segment <see cref="SegmentIndex"/>. Everything before the stop point is on the
/// destinations and is exactly what <see cref="SegmentsProcessed"/> and <see cref="TransferredBytes"/> say; nothing after it
/// was written. <see cref="DeviceId"/>/<see cref="DeviceByteOffset"/> name the failing device position when known.
/// </summary>
public sealed class CopyAbortedException : ExtendedCopyException
{
    public CopyAbortedException(SenseData sense, string detail, int segmentIndex, int segmentsProcessed, long transferredBytes,
        string? deviceId, long? deviceByteOffset, Exception? inner)
        : base(sense, detail, inner)
    {
        SegmentIndex = segmentIndex;
        SegmentsProcessed = segmentsProcessed;
        TransferredBytes = transferredBytes;
        DeviceId = deviceId;
        DeviceByteOffset = deviceByteOffset;
    }

    public int SegmentIndex { get; }
    public int SegmentsProcessed { get; }
    public long TransferredBytes { get; }
    public string? DeviceId { get; }
    public long? DeviceByteOffset { get; }
    public bool EndOfMedium => Sense.EndOfMedium;

    public override string Message =>
        $"{base.Message}; {SegmentsProcessed} segments processed, {TransferredBytes} bytes written";
}
