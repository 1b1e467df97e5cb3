using System.Runtime.CompilerServices;
using System.Buffers;
using Offhost.Core.Devices;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;

namespace Offhost.Formats.Ntfs;

/// <summary>
/// Maps an NTFS volume in two passes over the MFT, read in large chunks through the $MFT runlist. Pass 1 keeps only the
/// directory table (parent reference and best name per directory); pass 2 parses each base FILE record with its
/// extension records and yields one entry at a time. Metadata files (records 0-15 and everything under $Extend) are
/// left out; the root directory is "/". Single use, not thread-safe.
/// </summary>
internal sealed partial class NtfsMapper : IVolumeMapper
{
    const int ChunkBytes = 1 << 20;
    /// <summary>$ATTRIBUTE_LIST values are capped at 256 KiB by NTFS.</summary>
    const int MaxAttributeListBytes = 256 * 1024;
    const int MaxExtensionRecords = 4096;

    readonly SliceBlockSource volume;
    readonly NtfsBootSector boot;
    readonly MftStream mft;
    readonly StreamBuilder streams;
    DirectoryTable? directories;
    bool used;

    public NtfsMapper(SliceBlockSource volume, NtfsBootSector boot, MftStream mft, VolumeInfo info)
    {
        this.volume = volume;
        this.boot = boot;
        this.mft = mft;
        Volume = info;
        streams = new StreamBuilder(volume.StartBytes, boot.ClusterSizeBytes, volume.LogicalBlockSize);
    }

    public VolumeInfo Volume { get; }
    public MapStatistics Statistics { get; } = new();

    /// <summary>Number of $ATTRIBUTE_LIST attributes seen in pass 2 (for tests and diagnostics).</summary>
    internal int AttributeListsSeen { get; private set; }
    /// <summary>Streams whose $DATA was split over several records (pieces with different lowest VCNs).</summary>
    internal int SplitStreamsSeen { get; private set; }
    internal IReadOnlyList<DataRun> MftRuns => mft.Runs;

    internal long RecordDeviceOffset(ulong record) => mft.DeviceOffsetOf(mft.RecordStreamOffset(record));

    public IEnumerable<MapEntry> Entries(CancellationToken cancellationToken)
    {
        if (used) throw new InvalidOperationException("Entries() can be enumerated once per mapper");
        used = true;
        return Enumerate(cancellationToken);
    }

    IEnumerable<MapEntry> Enumerate(CancellationToken ct)
    {
        directories = BuildDirectoryTable(ct);
        var work = new RecordWork();
        foreach (var (number, record, error) in Records(ct))
        {
            MapEntry? entry;
            if (error is not null)
            {
                entry = new MapEntry(MapEntryKind.Unmappable, "", number) { Error = error };
            }
            else
            {
                try
                {
                    entry = MapRecord(number, record, work);
                }
                catch (CorruptStructureException e)
                {
                    entry = new MapEntry(MapEntryKind.Unmappable, work.BestPath ?? "", number) { Error = e.Message };
                }
                catch (IOException e)
                {
                    entry = new MapEntry(MapEntryKind.Unmappable, work.BestPath ?? "", number)
                    {
                        Error = $"{FileRecord.Name(number)} at byte offset {RecordDeviceOffset(number)}: read failed: {e.Message}",
                    };
                }
            }
            if (entry is not null) yield return entry;
        }
        Statistics.MetadataBytesRead = mft.BytesRead;
    }

    /// <summary>
    /// Every record slot with fixups applied: (number, bytes, null) for a base record in use, (number, empty, error) for a
    /// slot that is damaged. Unused slots and extension records are skipped. The bytes are valid until the next item.
    /// </summary>
    IEnumerable<(ulong Number, ReadOnlyMemory<byte> Record, string? Error)> Records(CancellationToken ct)
    {
        foreach (var (number, slot, readError) in RecordSlots(ct))
        {
            Statistics.RecordsScanned++;
            long device = RecordDeviceOffset(number);
            if (readError is not null)
            {
                yield return (number, default, $"{FileRecord.Name(number)} at byte offset {device}: read failed: {readError}");
                continue;
            }
            string? error = null;
            bool inUse = false;
            try
            {
                inUse = FileRecord.ApplyFixups(slot.Span, number, device)
                    && (FileRecord.Flags(slot.Span) & FileRecord.FlagInUse) != 0
                    && FileRecord.BaseReference(slot.Span) == 0;
            }
            catch (CorruptStructureException e)
            {
                // A damaged slot is reported only if its header claims a base record in use; free slots and
                // extension records are not files (a damaged extension is reported by its base record).
                var raw = slot.Span;
                if ((FileRecord.Flags(raw) & FileRecord.FlagInUse) != 0 && FileRecord.BaseReference(raw) == 0) error = e.Message;
            }
            if (error is not null) yield return (number, default, error);
            else if (inUse) yield return (number, slot, null);
        }
    }

    /// <summary>
    /// Every record slot of the MFT in order, read a chunk at a time through the $MFT runlist; when a chunk cannot be
    /// read its records are read one by one, and a record that still cannot be read comes with the read error.
    /// The bytes are valid until the next item. Both passes read the MFT through this.
    /// </summary>
    IEnumerable<(ulong Number, Memory<byte> Slot, string? ReadError)> RecordSlots(CancellationToken ct)
    {
        int recordBytes = mft.RecordBytes;
        int perChunk = Math.Max(1, ChunkBytes / recordBytes);
        var buffer = ArrayPool<byte>.Shared.Rent(perChunk * recordBytes);
        try
        {
            long count = mft.RecordCount;
            for (long first = 0; first < count; first += perChunk)
            {
                ct.ThrowIfCancellationRequested();
                int n = (int)Math.Min(perChunk, count - first);
                bool chunkRead = TryRead(mft.RecordStreamOffset((ulong)first), buffer.AsSpan(0, n * recordBytes), out _);
                for (int i = 0; i < n; i++)
                {
                    ulong number = (ulong)(first + i);
                    var slot = buffer.AsMemory(i * recordBytes, recordBytes);
                    if (!chunkRead && !TryRead(mft.RecordStreamOffset(number), slot.Span, out string? readError))
                        yield return (number, default, readError ?? "read failed");
                    else
                        yield return (number, slot, null);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    bool TryRead(long streamOffset, Span<byte> dest, out string? error)
    {
        try
        {
            mft.Read(streamOffset, dest);
            error = null;
            return true;
        }
        catch (IOException e)
        {
            error = e.Message;
            return false;
        }
    }

    DirectoryTable BuildDirectoryTable(CancellationToken ct)
    {
        var table = new DirectoryTable(RecordDeviceOffset);
        foreach (var (number, slot, readError) in RecordSlots(ct))
        {
            if (readError is not null) continue;   // reported by pass 2 for the record itself
            try
            {
                ScanDirectoryNames(number, slot.Span, table);
            }
            catch (CorruptStructureException)
            {
                // Reported by pass 2 for the record itself; its children report the broken parent.
            }
        }
        return table;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void ScanDirectoryNames(ulong number, Span<byte> rec, DirectoryTable table)
    {
        // The header fields read here lie in the first stride, before its fixup position, so they can be checked before
        // the fixups: most records are in-use files whose names pass 1 does not need.
        if (rec.Length < FileRecord.HeaderBytes) return;
        ushort flags = FileRecord.Flags(rec);
        if ((flags & FileRecord.FlagInUse) == 0) return;
        ulong baseRef = FileRecord.BaseReference(rec);
        if (baseRef == 0 && (flags & FileRecord.FlagDirectory) == 0) return;
        long device = RecordDeviceOffset(number);
        if (!FileRecord.ApplyFixups(rec, number, device)) return;
        ulong owner = baseRef == 0 ? number : FileRecord.SplitReference(baseRef).Record;
        bool isDirectoryRecord = baseRef == 0 && (flags & FileRecord.FlagDirectory) != 0;
        if (isDirectoryRecord) table.AddDirectoryRecord(number, FileRecord.Sequence(rec));
        foreach (var a in FileRecord.Attributes(rec, number, device))
        {
            if (a.Type != AttributeType.FileName || a.IsNonResident) continue;
            var fn = FileNameAttribute.Read(a.Value, a.DeviceOffset);
            if (!isDirectoryRecord && (fn.FileAttributes & FileAttributeFlags.DirectoryIndexPresent) == 0) continue;
            var nameBytes = a.Value.Slice(FileNameAttribute.NameOffset, fn.NameBytes.Length).ToArray();
            table.AddName(owner, fn.ParentReference, fn.Namespace, () => System.Text.Encoding.Unicode.GetString(nameBytes));
        }
    }

    /// <summary>Scratch state reused across records so the hot path allocates only what the entry keeps.</summary>
    sealed class RecordWork
    {
        public readonly List<(ulong Parent, byte Namespace, string Name)> Names = [];
        public readonly List<DataAttributePiece> Data = [];
        public readonly List<ulong> Extensions = [];
        public StandardInformation? Info;
        public byte[]? Reparse;
        public long ReparseOffset;
        public string? BestPath;

        public void Clear()
        {
            Names.Clear();
            Data.Clear();
            Extensions.Clear();
            Info = null;
            Reparse = null;
            BestPath = null;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    MapEntry? MapRecord(ulong number, ReadOnlyMemory<byte> recordMemory, RecordWork work)
    {
        work.Clear();
        var rec = recordMemory.Span;
        long device = RecordDeviceOffset(number);
        ushort flags = FileRecord.Flags(rec);
        ushort sequence = FileRecord.Sequence(rec);
        bool isDirectory = (flags & FileRecord.FlagDirectory) != 0;

        if (number < DirectoryTable.FirstUserRecord && number != DirectoryTable.RootRecord) return null;

        byte[]? attributeList = null;
        long attributeListOffset = 0;
        CollectAttributes(number, rec, device, work, ref attributeList, ref attributeListOffset);
        if (attributeList is not null)
        {
            AttributeListsSeen++;
            LoadExtensions(number, sequence, attributeList, attributeListOffset, work);
        }

        if (number == DirectoryTable.RootRecord)
            return BuildEntry(number, sequence, MapEntryKind.Directory, "/", [], work, device);

        // Names: one link per distinct (parent, name); DOS 8.3 names only when a parent has no other name.
        string? primary = null;
        List<string>? links = null;
        bool metadata = false;
        foreach (var (parentRef, ns, name) in work.Names)
        {
            if (ns == FileNameAttribute.NamespaceDos && HasLongName(work, parentRef)) continue;
            var (parent, parentSeq) = FileRecord.SplitReference(parentRef);
            if (!directories!.TryGetPath(parent, parentSeq, out var dir, out bool meta, out var error))
                CorruptStructure.Throw(FileRecord.Name(number), device, $"cannot build the path of \"{name}\": {error}");
            if (meta || (parent == DirectoryTable.RootRecord && number < DirectoryTable.FirstUserRecord)) metadata = true;
            string path = DirectoryTable.Join(dir, name);
            if (primary is null) { primary = path; work.BestPath = path; }
            else if (path != primary && (links is null || !links.Contains(path))) (links ??= []).Add(path);
        }
        if (primary is null)
        {
            if (number < 24 && work.Names.Count == 0) return null; // reserved MFT slots 16-23 carry no name
            CorruptStructure.Throw(FileRecord.Name(number), device, "in-use base record has no $FILE_NAME");
        }
        if (metadata) return null;

        var kind = isDirectory ? MapEntryKind.Directory : MapEntryKind.File;
        return BuildEntry(number, sequence, kind, primary, links ?? (IReadOnlyList<string>)[], work, device);
    }

    static bool HasLongName(RecordWork work, ulong parentRef)
    {
        foreach (var (p, ns, _) in work.Names)
            if (p == parentRef && ns != FileNameAttribute.NamespaceDos) return true;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    MapEntry BuildEntry(ulong number, ushort sequence, MapEntryKind kind, string path, IReadOnlyList<string> links,
        RecordWork work, long device)
    {
        var si = work.Info ?? CorruptStructure.Throw<StandardInformation>(FileRecord.Name(number), device, "no $STANDARD_INFORMATION");

        var streamList = new List<MapStream>(1);
        // Group pieces by stream name (sorted, so the unnamed stream comes first).
        if (work.Data.Count == 1) streamList.Add(streams.Build(work.Data, number));
        else work.Data.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        for (int i = 0; work.Data.Count > 1 && i < work.Data.Count;)
        {
            int j = i + 1;
            while (j < work.Data.Count && work.Data[j].Name == work.Data[i].Name) j++;
            if (j - i > 1) SplitStreamsSeen++;
            streamList.Add(streams.Build(work.Data.GetRange(i, j - i), number));
            i = j;
        }
        long size = 0;
        MapStream? unnamed = null;
        foreach (var s in streamList)
            if (s.Name.Length == 0) { unnamed = s; size = s.SizeBytes; }

        string? target = null, linkKind = null;
        if (work.Reparse is byte[] reparse && ReparsePoint.ReadLink(reparse, work.ReparseOffset) is var (lk, t))
        {
            kind = MapEntryKind.Symlink;
            target = t;
            linkKind = lk;
        }
        else if (kind == MapEntryKind.File && (si.FileAttributes & FileAttributeFlags.System) != 0 && unnamed is not null
            && unnamed.SizeBytes is >= 8 and <= ReparsePoint.MaxInterixBytes && ReadSmallStream(unnamed) is byte[] content
            && ReparsePoint.ReadInterixTarget(content) is string interix)
        {
            kind = MapEntryKind.Symlink;
            target = interix;
            linkKind = "symlink";
        }

        return new MapEntry(kind, path, number)
        {
            Links = links,
            Sequence = sequence,
            SizeBytes = size,
            Attributes = AttributeNames(si.FileAttributes),
            Created = MapTime.FromFileTime(si.CreationTime),
            Modified = MapTime.FromFileTime(si.ModificationTime),
            Changed = MapTime.FromFileTime(si.MftChangeTime),
            Accessed = MapTime.FromFileTime(si.AccessTime),
            Target = target,
            LinkKind = linkKind,
            Streams = streamList,
        };
    }

    // Few distinct flag combinations occur on a volume; share one list per combination.
    readonly Dictionary<uint, IReadOnlyList<string>> attributeNames = [];

    IReadOnlyList<string> AttributeNames(uint flags)
    {
        if (!attributeNames.TryGetValue(flags, out var names))
        {
            names = FileAttributeFlags.ToNames(flags);
            if (attributeNames.Count < 4096) attributeNames[flags] = names;
        }
        return names;
    }

    /// <summary>The bytes of a small uncompressed stream (resident, or read through its extents).</summary>
    byte[]? ReadSmallStream(MapStream s)
    {
        if (s.ResidentData is ReadOnlyMemory<byte> r) return r.ToArray();
        if (s.Compressed || s.Encrypted) return null;
        var bytes = new byte[s.SizeBytes];
        foreach (var x in s.Extents)
        {
            if (x.Kind != ExtentKind.Data) continue;
            volume.Inner.ReadAt(x.Lba * volume.LogicalBlockSize, bytes.AsSpan((int)x.OffsetBytes, (int)x.LengthBytes));
        }
        return bytes;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void CollectAttributes(ulong number, ReadOnlySpan<byte> rec, long device, RecordWork work, ref byte[]? attributeList, ref long attributeListOffset)
    {
        foreach (var a in FileRecord.Attributes(rec, number, device))
        {
            switch (a.Type)
            {
                case AttributeType.StandardInformation when !a.IsNonResident:
                    work.Info = StandardInformation.Read(a.Value, a.DeviceOffset);
                    break;
                case AttributeType.FileName when !a.IsNonResident:
                    var fn = FileNameAttribute.Read(a.Value, a.DeviceOffset);
                    work.Names.Add((fn.ParentReference, fn.Namespace, fn.NameString()));
                    break;
                case AttributeType.Data:
                    work.Data.Add(ToPiece(a));
                    break;
                case AttributeType.ReparsePoint:
                    if (a.IsNonResident)
                        CorruptStructure.Throw(FileRecord.Name(number), a.DeviceOffset, "non-resident $REPARSE_POINT is not supported");
                    work.Reparse = a.Value.ToArray();
                    work.ReparseOffset = a.DeviceOffset;
                    break;
                case AttributeType.AttributeList:
                    if (attributeList is not null)
                        CorruptStructure.Throw(FileRecord.Name(number), a.DeviceOffset, "second $ATTRIBUTE_LIST");
                    attributeList = ReadAttributeValue(a, MaxAttributeListBytes, "$ATTRIBUTE_LIST", out attributeListOffset);
                    break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    DataAttributePiece ToPiece(in AttributeRecord a)
    {
        if (!a.IsNonResident)
            return new DataAttributePiece { Name = a.NameString(), ResidentValue = a.Value.ToArray(), DeviceOffset = a.DeviceOffset, Flags = a.Flags };
        var runs = new List<DataRun>(4);
        Runlist.Decode(a.MappingPairs, a.LowestVcn, boot.TotalClusters, a.MappingPairsDeviceOffset, runs);
        return new DataAttributePiece
        {
            Name = a.NameString(),
            LowestVcn = a.LowestVcn,
            HighestVcn = a.HighestVcn,
            Runs = runs,
            Flags = a.Flags,
            CompressionUnitLog2 = a.CompressionUnitLog2,
            AllocatedSizeBytes = a.AllocatedSizeBytes,
            DataSizeBytes = a.DataSizeBytes,
            InitializedSizeBytes = a.InitializedSizeBytes,
            DeviceOffset = a.DeviceOffset,
        };
    }

    /// <summary>The value of a resident or small non-resident attribute; <paramref name="valueDeviceOffset"/> is where its
    /// first byte lies on the device (for error messages).</summary>
    byte[] ReadAttributeValue(in AttributeRecord a, int maxBytes, string what, out long valueDeviceOffset)
    {
        if (!a.IsNonResident)
        {
            valueDeviceOffset = a.ValueDeviceOffset;
            return a.Value.ToArray();
        }
        if (a.LowestVcn != 0 || a.DataSizeBytes > maxBytes)
            CorruptStructure.Throw(what, a.DeviceOffset, $"non-resident value of {a.DataSizeBytes} bytes exceeds {maxBytes} or does not start at VCN 0");
        var runs = new List<DataRun>();
        long vcnEnd = Runlist.Decode(a.MappingPairs, 0, boot.TotalClusters, a.MappingPairsDeviceOffset, runs);
        if (vcnEnd * boot.ClusterSizeBytes < a.DataSizeBytes)
            CorruptStructure.Throw(what, a.DeviceOffset, $"runlist covers {vcnEnd} clusters, less than the value's {a.DataSizeBytes} bytes");
        var value = new byte[a.DataSizeBytes];
        MftStream.ReadRuns(volume, runs, boot.ClusterSizeBytes, 0, value, what);
        valueDeviceOffset = runs.Count > 0 && !runs[0].IsSparse ? volume.StartBytes + runs[0].Lcn * boot.ClusterSizeBytes : a.DeviceOffset;
        return value;
    }

    static bool IsBaseReference(ulong reference, ulong number, ushort sequence)
    {
        var (r, s) = FileRecord.SplitReference(reference);
        return r == number && (s == 0 || s == sequence);
    }

    void LoadExtensions(ulong number, ushort sequence, byte[] list, long listOffset, RecordWork work)
    {
        var entries = AttributeListEntry.ReadAll(list, listOffset);
        foreach (var e in entries)
        {
            var (record, seq) = FileRecord.SplitReference(e.FileReference);
            if (record == number)
            {
                if (seq != 0 && seq != sequence)
                    CorruptStructure.Throw("$ATTRIBUTE_LIST entry", listOffset + e.OffsetInList, $"refers to record {record} with sequence {seq}, the record has {sequence}");
                continue;
            }
            if (!work.Extensions.Contains(e.FileReference)) work.Extensions.Add(e.FileReference);
            if (work.Extensions.Count > MaxExtensionRecords)
                CorruptStructure.Throw("$ATTRIBUTE_LIST", listOffset, $"refers to more than {MaxExtensionRecords} extension records");
        }

        var buffer = ArrayPool<byte>.Shared.Rent(mft.RecordBytes);
        try
        {
            foreach (ulong reference in work.Extensions)
            {
                var (record, seq) = FileRecord.SplitReference(reference);
                long entryOffset = listOffset;
                foreach (var e in entries) if (e.FileReference == reference) { entryOffset = listOffset + e.OffsetInList; break; }
                if ((long)record >= mft.RecordCount)
                    CorruptStructure.Throw("$ATTRIBUTE_LIST entry", entryOffset, $"refers to FILE record {record}, past the end of the MFT ({mft.RecordCount} records)");
                var rec = buffer.AsSpan(0, mft.RecordBytes);
                mft.Read(mft.RecordStreamOffset(record), rec);
                long device = RecordDeviceOffset(record);
                if (!FileRecord.ApplyFixups(rec, record, device)
                    || (FileRecord.Flags(rec) & FileRecord.FlagInUse) == 0
                    || !IsBaseReference(FileRecord.BaseReference(rec), number, sequence)
                    || (seq != 0 && FileRecord.Sequence(rec) != seq))
                    CorruptStructure.Throw("$ATTRIBUTE_LIST entry", entryOffset,
                        $"refers to FILE record {record} (sequence {seq}), which is missing or not an extension record of record {number}");
                byte[]? nested = null;
                long nestedOffset = 0;
                CollectAttributes(record, rec, device, work, ref nested, ref nestedOffset);
                if (nested is not null)
                    CorruptStructure.Throw(FileRecord.Name(record), nestedOffset, "extension record holds an $ATTRIBUTE_LIST");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
