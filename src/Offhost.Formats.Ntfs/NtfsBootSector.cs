using System.Buffers.Binary;
using Offhost.Core.Errors;

namespace Offhost.Formats.Ntfs;

/// <summary>
/// The NTFS boot sector and its BIOS parameter block (BPB), the first 512 bytes of the volume. A copy (the backup
/// boot sector) sits in the volume's last sector. Sizes are in bytes unless the name says otherwise.
/// </summary>
internal sealed record NtfsBootSector(
    int BytesPerSector,
    int ClusterSizeBytes,
    long TotalSectors,
    long MftLcn,
    long MftMirrLcn,
    int FileRecordSizeBytes,
    int IndexRecordSizeBytes,
    ulong SerialNumber)
{
    public const int Size = 512;

    const int OemIdOffset = 0x03;
    const int BytesPerSectorOffset = 0x0B;
    const int SectorsPerClusterOffset = 0x0D;
    const int TotalSectorsOffset = 0x28;
    const int MftLcnOffset = 0x30;
    const int MftMirrLcnOffset = 0x38;
    const int ClustersPerFileRecordOffset = 0x40;
    const int ClustersPerIndexRecordOffset = 0x44;
    const int SerialNumberOffset = 0x48;
    const int SignatureOffset = 0x1FE;

    /// <summary>Largest cluster NTFS defines (2 MiB, Windows 10 1709 and later).</summary>
    public const int MaxClusterSizeBytes = 2 * 1024 * 1024;
    /// <summary>FILE records are 1 KiB or 4 KiB in practice; anything beyond 64 KiB is not NTFS.</summary>
    public const int MaxFileRecordSizeBytes = 64 * 1024;

    static ReadOnlySpan<byte> OemId => "NTFS    "u8;

    public long TotalClusters => TotalSectors * BytesPerSector / ClusterSizeBytes;
    public long VolumeSizeBytes => TotalSectors * BytesPerSector;

    /// <summary>Parses and validates a boot sector; <paramref name="deviceOffset"/> is used only in error messages.</summary>
    public static NtfsBootSector Read(ReadOnlySpan<byte> sector, long deviceOffset)
    {
        const string S = "NTFS boot sector";
        if (sector.Length < Size) CorruptStructure.Truncated(S, deviceOffset, Size, sector.Length);
        if (!sector.Slice(OemIdOffset, 8).SequenceEqual(OemId))
            CorruptStructure.Throw(S, deviceOffset + OemIdOffset, "OEM id is not \"NTFS    \"");
        if (BinaryPrimitives.ReadUInt16LittleEndian(sector[SignatureOffset..]) != 0xAA55)
            CorruptStructure.Throw(S, deviceOffset + SignatureOffset, "missing 0x55AA signature");

        int bps = BinaryPrimitives.ReadUInt16LittleEndian(sector[BytesPerSectorOffset..]);
        if (bps < 256 || bps > 4096 || !IsPowerOfTwo(bps))
            CorruptStructure.Throw(S, deviceOffset + BytesPerSectorOffset, $"bytes per sector {bps} is not a power of two in 256..4096");

        byte spcRaw = sector[SectorsPerClusterOffset];
        // Values above 0x80 encode 2^(256 - value) sectors, for clusters of 128 KiB and more.
        long spc = spcRaw <= 0x80 ? spcRaw : spcRaw >= 0xF4 ? 1L << (256 - spcRaw) : 0;
        if (spc == 0 || !IsPowerOfTwo(spc) || spc * bps > MaxClusterSizeBytes)
            CorruptStructure.Throw(S, deviceOffset + SectorsPerClusterOffset, $"sectors per cluster byte 0x{spcRaw:X2} is invalid");
        int clusterBytes = (int)(spc * bps);

        long totalSectors = BinaryPrimitives.ReadInt64LittleEndian(sector[TotalSectorsOffset..]);
        if (totalSectors <= 0 || totalSectors > long.MaxValue / 4096)
            CorruptStructure.Throw(S, deviceOffset + TotalSectorsOffset, $"total sectors {totalSectors} is invalid");
        long totalClusters = totalSectors * bps / clusterBytes;

        long mftLcn = BinaryPrimitives.ReadInt64LittleEndian(sector[MftLcnOffset..]);
        if (mftLcn <= 0 || mftLcn >= totalClusters)
            CorruptStructure.Throw(S, deviceOffset + MftLcnOffset, $"$MFT cluster {mftLcn} is outside the volume ({totalClusters} clusters)");
        long mirrLcn = BinaryPrimitives.ReadInt64LittleEndian(sector[MftMirrLcnOffset..]);
        if (mirrLcn <= 0 || mirrLcn >= totalClusters)
            CorruptStructure.Throw(S, deviceOffset + MftMirrLcnOffset, $"$MFTMirr cluster {mirrLcn} is outside the volume ({totalClusters} clusters)");

        int recordBytes = DecodeRecordSize((sbyte)sector[ClustersPerFileRecordOffset], clusterBytes);
        if (recordBytes < 512 || recordBytes > MaxFileRecordSizeBytes || !IsPowerOfTwo(recordBytes))
            CorruptStructure.Throw(S, deviceOffset + ClustersPerFileRecordOffset, $"FILE record size {recordBytes} is invalid");
        int indexBytes = DecodeRecordSize((sbyte)sector[ClustersPerIndexRecordOffset], clusterBytes);
        if (indexBytes < 512 || indexBytes > MaxFileRecordSizeBytes || !IsPowerOfTwo(indexBytes))
            CorruptStructure.Throw(S, deviceOffset + ClustersPerIndexRecordOffset, $"index record size {indexBytes} is invalid");

        ulong serial = BinaryPrimitives.ReadUInt64LittleEndian(sector[SerialNumberOffset..]);
        return new NtfsBootSector(bps, clusterBytes, totalSectors, mftLcn, mirrLcn, recordBytes, indexBytes, serial);
    }

    // A positive value counts clusters; a negative value -n means 2^n bytes.
    static int DecodeRecordSize(sbyte raw, int clusterBytes) =>
        raw > 0 ? (raw * (long)clusterBytes > int.MaxValue ? -1 : raw * clusterBytes)
        : raw < 0 && raw >= -30 ? 1 << -raw
        : -1;

    static bool IsPowerOfTwo(long v) => v > 0 && (v & (v - 1)) == 0;
}
