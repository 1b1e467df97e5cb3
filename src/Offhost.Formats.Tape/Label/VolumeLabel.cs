using Offhost.Core.Mapping;

namespace Offhost.Formats.Tape.Label;

/// <summary>
/// The Offhost volume label: tape file 0 of every Offhost tape, one record of <see cref="VolumeLabelCodec.RecordBytes"/>
/// bytes (an ANSI VOL1 label followed by a binary extension, see docs/formats/tape-format.md).
/// </summary>
/// <param name="VolumeId">Volume serial: 1 to 6 characters of A-Z, 0-9 (what a barcode label carries).</param>
/// <param name="CapacityBytes">Size of the medium in bytes; for a SIMH image, the largest the .tap file may grow, framing included.</param>
/// <param name="EarlyWarningBytes">Size of the early-warning zone just before <paramref name="CapacityBytes"/>.</param>
/// <param name="Created">When the tape was labelled.</param>
/// <param name="VolumeUuid">Unique identity of this medium, independent of the reusable serial.</param>
public sealed record VolumeLabel(string VolumeId, long CapacityBytes, long EarlyWarningBytes, MapTime Created, Guid VolumeUuid)
{
    /// <summary>Early-warning zone size when none is given: 1/50 of the capacity, at least 64 KiB and at most 4 GiB.</summary>
    public static long DefaultEarlyWarningBytes(long capacityBytes) =>
        Math.Clamp(capacityBytes / 50, 64 * 1024, 4L * 1024 * 1024 * 1024);
}
