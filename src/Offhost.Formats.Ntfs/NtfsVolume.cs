using System.Text;
using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;

namespace Offhost.Formats.Ntfs;

/// <summary>Entry points for NTFS: recognise a boot sector and open a volume for mapping. Thread-safe (no shared state).</summary>
public static class NtfsVolume
{
    /// <summary>True when the 512-byte boot sector looks like NTFS (OEM id "NTFS    " and a sane BPB).</summary>
    public static bool Probe(ReadOnlySpan<byte> bootSector)
    {
        try
        {
            NtfsBootSector.Read(bootSector, 0);
            return true;
        }
        catch (CorruptStructureException)
        {
            return false;
        }
    }

    /// <summary>
    /// Opens the volume in <paramref name="volume"/> (offsets relative to the partition; <c>StartBytes</c> is the
    /// partition's offset on the device). Reads the boot sector (falling back to the backup in the volume's last sector),
    /// then the $MFT's own runlist from record 0 (falling back to $MFTMirr) and the label from $Volume.
    /// Throws <see cref="CorruptStructureException"/> if nothing can be mapped.
    /// </summary>
    public static IVolumeMapper OpenMapper(SliceBlockSource volume, int? partitionNumber)
    {
        ArgumentNullException.ThrowIfNull(volume);
        var warnings = new List<string>();
        var boot = ReadBootSector(volume, warnings);
        int blockBytes = volume.LogicalBlockSize;
        if (blockBytes <= 0 || boot.ClusterSizeBytes % blockBytes != 0 || volume.StartBytes % blockBytes != 0)
            CorruptStructure.Throw("NTFS boot sector", volume.StartBytes, $"clusters of {boot.ClusterSizeBytes} bytes at partition offset {volume.StartBytes} are not aligned to the device's {blockBytes}-byte blocks");
        if (boot.VolumeSizeBytes > volume.LengthBytes)
            CorruptStructure.Throw("NTFS boot sector", volume.StartBytes + 0x28,
                $"volume size {boot.VolumeSizeBytes} bytes exceeds the {volume.LengthBytes} bytes available (truncated image or wrong partition size)");

        var mft = OpenMft(volume, boot, warnings);
        string? label = ReadLabel(mft, warnings);
        var info = new VolumeInfo("ntfs", volume.DeviceId, blockBytes, boot.ClusterSizeBytes, volume.StartBytes,
            boot.VolumeSizeBytes, label, boot.SerialNumber.ToString("X16", System.Globalization.CultureInfo.InvariantCulture))
        {
            Partition = partitionNumber,
            Warnings = warnings,
        };
        return new NtfsMapper(volume, boot, mft, info);
    }

    static NtfsBootSector ReadBootSector(SliceBlockSource volume, List<string> warnings)
    {
        if (volume.LengthBytes < NtfsBootSector.Size)
            CorruptStructure.Truncated("NTFS boot sector", volume.StartBytes, NtfsBootSector.Size, volume.LengthBytes);
        Span<byte> sector = stackalloc byte[NtfsBootSector.Size];
        volume.ReadAt(0, sector);
        try
        {
            return NtfsBootSector.Read(sector, volume.StartBytes);
        }
        catch (CorruptStructureException primary)
        {
            // The backup sits in the last sector of the volume; its sector size is unknown until it is read.
            foreach (int sectorBytes in (ReadOnlySpan<int>)[512, 4096])
            {
                long at = (volume.LengthBytes / sectorBytes - 1) * sectorBytes;
                if (at <= 0) continue;
                volume.ReadAt(at, sector);
                try
                {
                    var backup = NtfsBootSector.Read(sector, volume.StartBytes + at);
                    warnings.Add($"primary boot sector damaged ({primary.Message}); used the backup boot sector at byte offset {volume.StartBytes + at}");
                    return backup;
                }
                catch (CorruptStructureException)
                {
                }
            }
            throw;
        }
    }

    static MftStream OpenMft(SliceBlockSource volume, NtfsBootSector boot, List<string> warnings)
    {
        try
        {
            return OpenMftAt(volume, boot, boot.MftLcn);
        }
        catch (CorruptStructureException primary)
        {
            try
            {
                var mft = OpenMftAt(volume, boot, boot.MftMirrLcn);
                warnings.Add($"$MFT record 0 damaged ({primary.Message}); used its copy in $MFTMirr");
                return mft;
            }
            catch (CorruptStructureException)
            {
                throw primary;
            }
        }
    }

    static MftStream OpenMftAt(SliceBlockSource volume, NtfsBootSector boot, long lcn)
    {
        int recordBytes = boot.FileRecordSizeBytes;
        long at = lcn * boot.ClusterSizeBytes;
        long device = volume.StartBytes + at;
        var record = new byte[recordBytes];
        if (at + recordBytes > volume.LengthBytes) CorruptStructure.Truncated("FILE record 0 ($MFT)", device, recordBytes, volume.LengthBytes - at);
        volume.ReadAt(at, record);
        if (!FileRecord.ApplyFixups(record, 0, device))
            CorruptStructure.Throw(FileRecord.Name(0), device, "the $MFT record is empty");
        if ((FileRecord.Flags(record) & FileRecord.FlagInUse) == 0)
            CorruptStructure.Throw(FileRecord.Name(0), device, "the $MFT record is not in use");

        var fragments = new List<(long Lowest, long Highest, List<DataRun> Runs, long Size, long Init)>();
        var extensionRefs = new List<ulong>();
        CollectMftData(record, 0, device, boot, fragments, extensionRefs);
        if (fragments.Count == 0 || fragments.Min(f => f.Lowest) != 0)
            CorruptStructure.Throw(FileRecord.Name(0), device, "the $MFT has no unnamed $DATA starting at VCN 0");

        if (extensionRefs.Count > 0)
        {
            // Extension records of a fragmented $MFT are found through the part of the runlist known so far.
            var first = fragments.First(f => f.Lowest == 0);
            var partial = new MftStream(volume, [.. first.Runs], boot.ClusterSizeBytes, recordBytes, first.Init);
            foreach (ulong reference in extensionRefs)
            {
                var (number, _) = FileRecord.SplitReference(reference);
                long off = partial.RecordStreamOffset(number);
                if (off + recordBytes > first.Runs[^1].EndVcn * boot.ClusterSizeBytes)
                    CorruptStructure.Throw(FileRecord.Name(0), device, $"$ATTRIBUTE_LIST refers to $MFT extension record {number}, which is not in the first $DATA fragment");
                var ext = new byte[recordBytes];
                partial.Read(off, ext);
                long extDevice = partial.DeviceOffsetOf(off);
                if (!FileRecord.ApplyFixups(ext, number, extDevice) || FileRecord.SplitReference(FileRecord.BaseReference(ext)).Record != 0)
                    CorruptStructure.Throw(FileRecord.Name(number), extDevice, "is not an extension record of $MFT");
                CollectMftData(ext, number, extDevice, boot, fragments, null);
            }
        }

        fragments.Sort((a, b) => a.Lowest.CompareTo(b.Lowest));
        var runs = new List<DataRun>();
        long expectVcn = 0;
        foreach (var f in fragments)
        {
            if (f.Lowest != expectVcn)
                CorruptStructure.Throw(FileRecord.Name(0), device, $"$MFT $DATA fragments are not contiguous at VCN {expectVcn}");
            runs.AddRange(f.Runs);
            expectVcn = f.Runs.Count > 0 ? f.Runs[^1].EndVcn : f.Lowest;
        }
        var head = fragments[0];
        foreach (var r in runs)
            if (r.IsSparse) CorruptStructure.Throw(FileRecord.Name(0), device, $"the $MFT has a sparse run at VCN {r.Vcn}");
        if (head.Init < (long)recordBytes * 16 || head.Init > expectVcn * boot.ClusterSizeBytes)
            CorruptStructure.Throw(FileRecord.Name(0), device, $"$MFT initialized size {head.Init} is not covered by its runlist ({expectVcn} clusters) or too small");
        return new MftStream(volume, [.. runs], boot.ClusterSizeBytes, recordBytes, head.Init);
    }

    static void CollectMftData(byte[] record, ulong number, long device, NtfsBootSector boot,
        List<(long, long, List<DataRun>, long, long)> fragments, List<ulong>? extensionRefs)
    {
        foreach (var a in FileRecord.Attributes(record, number, device))
        {
            if (a.Type == AttributeType.Data && !a.IsNamed)
            {
                if (!a.IsNonResident) CorruptStructure.Throw(FileRecord.Name(number), a.DeviceOffset, "the $MFT $DATA is resident");
                var runs = new List<DataRun>();
                Runlist.Decode(a.MappingPairs, a.LowestVcn, boot.TotalClusters, a.MappingPairsDeviceOffset, runs);
                fragments.Add((a.LowestVcn, a.HighestVcn, runs, a.DataSizeBytes, a.InitializedSizeBytes));
            }
            else if (a.Type == AttributeType.AttributeList && extensionRefs is not null)
            {
                if (a.IsNonResident)
                    CorruptStructure.Throw(FileRecord.Name(number), a.DeviceOffset, "a non-resident $ATTRIBUTE_LIST in the $MFT record is not supported");
                foreach (var e in AttributeListEntry.ReadAll(a.Value, a.ValueDeviceOffset))
                {
                    var (n, _) = FileRecord.SplitReference(e.FileReference);
                    if (e.Type == AttributeType.Data && n != number && !extensionRefs.Contains(e.FileReference)) extensionRefs.Add(e.FileReference);
                }
            }
        }
    }

    const ulong VolumeRecord = 3;
    const int MaxLabelBytes = 256;

    static string? ReadLabel(MftStream mft, List<string> warnings)
    {
        long off = mft.RecordStreamOffset(VolumeRecord);
        long device = mft.DeviceOffsetOf(off);
        try
        {
            var record = new byte[mft.RecordBytes];
            mft.Read(off, record);
            if (!FileRecord.ApplyFixups(record, VolumeRecord, device)) return null;
            foreach (var a in FileRecord.Attributes(record, VolumeRecord, device))
            {
                if (a.Type == AttributeType.VolumeName && !a.IsNonResident && a.Value.Length <= MaxLabelBytes)
                    return Encoding.Unicode.GetString(a.Value[..(a.Value.Length & ~1)]);
            }
            return "";
        }
        catch (CorruptStructureException e)
        {
            warnings.Add($"volume label unreadable: {e.Message}");
            return null;
        }
    }
}
