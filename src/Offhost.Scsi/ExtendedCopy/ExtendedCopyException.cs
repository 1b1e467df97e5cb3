using Offhost.Scsi.Sense;

namespace Offhost.Scsi.ExtendedCopy;

/// <summary>
/// An EXTENDED COPY (or RECEIVE COPY RESULTS) ended in CHECK CONDITION. <see cref="ScsiCheckConditionException.Sense"/>
/// is the sense data the copy manager returns: ILLEGAL REQUEST with a field pointer into the parameter list (or CDB)
/// for validation errors found before any data moved, COPY ABORTED with the segment number in COMMAND-SPECIFIC
/// INFORMATION for errors met while processing a segment.
/// </summary>
public class ExtendedCopyException : ScsiCheckConditionException
{
    public ExtendedCopyException(SenseData sense, string detail, Exception? inner = null)
        : base("EXTENDED COPY", sense)
    {
        Detail = detail;
        innerException = inner;
    }

    readonly Exception? innerException;

    /// <summary>What was wrong, in words (names the structure, the byte offset and, for segment errors, the segment).</summary>
    public string Detail { get; }

    /// <summary>The device error that caused a COPY ABORTED, if any.</summary>
    public Exception? Cause => innerException;

    public override string Message => $"{base.Message}: {Detail}";

    /// <summary>Field pointer value for the sense-key-specific bytes: SKSV set by the encoder, C/D, optional bit pointer.</summary>
    public static int FieldPointer(int byteOffset, bool inCdb = false, int? bit = null) =>
        (inCdb ? 0x40_0000 : 0) | (bit is int b ? 0x08_0000 | ((b & 7) << 16) : 0) | (byteOffset & 0xFFFF);

    /// <summary>ILLEGAL REQUEST for a bad field of the parameter list at <paramref name="listOffset"/> (null: no pointer).</summary>
    public static ExtendedCopyException IllegalRequest(byte asc, byte ascq, int? listOffset, string detail, int? bit = null) =>
        new(new SenseData(SenseKey.IllegalRequest, asc, ascq)
        {
            SenseKeySpecific = listOffset is int o ? FieldPointer(o, inCdb: false, bit) : null,
        }, listOffset is int p ? $"{detail} (parameter list byte {p})" : detail);

    /// <summary>ILLEGAL REQUEST for a bad CDB field.</summary>
    public static ExtendedCopyException InvalidCdbField(byte asc, byte ascq, int cdbOffset, string detail, int? bit = null) =>
        new(new SenseData(SenseKey.IllegalRequest, asc, ascq) { SenseKeySpecific = FieldPointer(cdbOffset, inCdb: true, bit) },
            $"{detail} (CDB byte {cdbOffset})");

    /// <summary>COPY ABORTED while processing segment <paramref name="segmentIndex"/> (0-based; put in COMMAND-SPECIFIC
    /// INFORMATION bytes 10-11). <paramref name="information"/> goes to INFORMATION (VALID set) when it fits in 31 bits.</summary>
    public static ExtendedCopyException CopyAborted(byte asc, byte ascq, int segmentIndex, string detail,
        long? information = null, Exception? inner = null, SenseKey key = SenseKey.CopyAborted, bool endOfMedium = false) =>
        new(new SenseData(key, asc, ascq)
        {
            CommandSpecific = (uint)(segmentIndex & 0xFFFF),
            Information = information is long i && i is >= 0 and <= int.MaxValue ? i : null,
            EndOfMedium = endOfMedium,
        }, $"segment {segmentIndex}: {detail}", inner);
}
