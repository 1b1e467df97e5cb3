using Google.Protobuf;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Rpc.V1;

namespace Offhost.Rpc;

/// <summary>
/// Converts storage-map records to and from their gRPC messages. Decoding checks what the storage-map model promises
/// (extents in order, covering the stream, non-negative sizes and addresses) and raises
/// <see cref="CorruptStructureException"/> naming the message and the entry's position in the stream: a map from the
/// network is input like any other. Stateless and thread-safe.
/// </summary>
public static class MapMessages
{
    /// <summary>Upper bound on the bytes of one <see cref="MapChunk"/>: chunks are cut well below it.</summary>
    public const int MaxMessageBytes = 64 << 20;

    /// <summary>Entries are packed into a chunk until it holds about this many bytes.</summary>
    public const int ChunkTargetBytes = 1 << 20;

    public static Entry ToMessage(MapEntry e)
    {
        var m = new Entry
        {
            Kind = e.Kind switch
            {
                MapEntryKind.File => Entry.Types.Kind.File,
                MapEntryKind.Directory => Entry.Types.Kind.Directory,
                MapEntryKind.Symlink => Entry.Types.Kind.Symlink,
                MapEntryKind.Special => e.Special switch
                {
                    SpecialFileKind.Fifo => Entry.Types.Kind.Fifo,
                    SpecialFileKind.CharDevice => Entry.Types.Kind.CharDevice,
                    SpecialFileKind.BlockDevice => Entry.Types.Kind.BlockDevice,
                    SpecialFileKind.Socket => Entry.Types.Kind.Socket,
                    _ => throw new ArgumentException($"special entry '{e.Path}' does not say which kind of special file it is", nameof(e)),
                },
                _ => Entry.Types.Kind.Unmappable,
            },
            Path = e.Path,
            Id = e.Id,
            Sequence = e.Sequence,
            SizeBytes = e.SizeBytes,
            Created = ToMessage(e.Created),
            Modified = ToMessage(e.Modified),
            Changed = ToMessage(e.Changed),
            Accessed = ToMessage(e.Accessed),
        };
        m.Links.AddRange(e.Links);
        m.Attributes.AddRange(e.Attributes);
        if (e.Target is not null) m.Target = e.Target;
        if (e.LinkKind is not null) m.LinkKind = e.LinkKind;
        if (e.Mode is uint mode) m.Mode = mode;
        if (e.Uid is uint uid) m.Uid = uid;
        if (e.Gid is uint gid) m.Gid = gid;
        if (e.Error is not null) m.Error = e.Error;
        if (e.Device is DeviceNumber dev)
        {
            m.RdevMajor = dev.Major;
            m.RdevMinor = dev.Minor;
        }
        foreach (var (k, v) in e.Xattrs) m.Xattrs[k] = ByteString.CopyFrom(v.Span);
        foreach (var s in e.Streams) m.Streams.Add(ToMessage(s));
        return m;
    }

    static Time? ToMessage(MapTime? t) => t is MapTime v ? new Time { UnixSeconds = v.UnixSeconds, Nanoseconds = v.Nanoseconds } : null;

    static V1.Stream ToMessage(MapStream s)
    {
        var m = new V1.Stream
        {
            Name = s.Name,
            SizeBytes = s.SizeBytes,
            InitializedBytes = s.InitializedBytes,
            Compressed = s.Compressed,
            Encrypted = s.Encrypted,
            Sparse = s.Sparse,
            CompressionUnitBytes = s.CompressionUnitBytes,
        };
        if (s.ResidentData is ReadOnlyMemory<byte> data)
        {
            m.Resident = true;
            m.ResidentData = ByteString.CopyFrom(data.Span);
        }
        foreach (var x in s.Extents)
        {
            var xm = new Extent
            {
                OffsetBytes = x.OffsetBytes,
                LengthBytes = x.LengthBytes,
                Kind = (Extent.Types.Kind)(int)x.Kind,
                Lba = x.Lba,
                Blocks = x.Blocks,
            };
            foreach (var r in x.Runs) xm.Runs.Add(new V1.PhysicalRun { Lba = r.Lba, Blocks = r.Blocks });
            m.Extents.Add(xm);
        }
        return m;
    }

    public static V1.Volume ToMessage(VolumeInfo v, int index, DeviceIdentity identity)
    {
        var m = new V1.Volume
        {
            Index = index,
            FileSystem = v.FileSystem,
            Device = v.Device,
            BlockSizeBytes = v.BlockSizeBytes,
            ClusterSizeBytes = v.ClusterSizeBytes,
            PartitionOffsetBytes = v.PartitionOffsetBytes,
            SizeBytes = v.SizeBytes,
            Label = v.Label ?? "",
            Serial = v.Serial ?? "",
            Uuid = v.Uuid ?? "",
            Partition = v.Partition ?? 0,
            Identity = identity,
        };
        m.Warnings.AddRange(v.Warnings);
        return m;
    }

    /// <summary>Decodes a volume record; <paramref name="position"/> (its index in the reply) names it in errors.</summary>
    public static VolumeInfo FromMessage(V1.Volume m, long position)
    {
        string where = $"agent volume record {m.Index}";
        CorruptStructure.Check(m.BlockSizeBytes is >= 512 and <= 1 << 16 && (m.BlockSizeBytes & (m.BlockSizeBytes - 1)) == 0,
            where, position, $"block size {m.BlockSizeBytes} is not a power of two from 512 to 65536");
        CorruptStructure.Check(m.ClusterSizeBytes is > 0 and <= 1 << 24, where, position, $"cluster size {m.ClusterSizeBytes} out of range");
        CorruptStructure.Check(m.PartitionOffsetBytes >= 0 && m.SizeBytes >= 0 && m.PartitionOffsetBytes % m.BlockSizeBytes == 0,
            where, position, $"partition offset {m.PartitionOffsetBytes} or size {m.SizeBytes} out of range");
        CorruptStructure.Check(m.FileSystem is "ntfs" or "ext2" or "ext3" or "ext4", where, position, $"unknown file system '{m.FileSystem}'");
        CorruptStructure.Check(m.Identity is not null, where, position, "no device identity");
        return new VolumeInfo(m.FileSystem, m.Device, m.BlockSizeBytes, m.ClusterSizeBytes, m.PartitionOffsetBytes, m.SizeBytes,
            m.Label.Length == 0 ? null : m.Label, m.Serial.Length == 0 ? null : m.Serial)
        {
            Uuid = m.Uuid.Length == 0 ? null : m.Uuid,
            Partition = m.Partition == 0 ? null : m.Partition,
            Warnings = m.Warnings.ToList(),
        };
    }

    /// <summary>Decodes an entry of a volume whose blocks are <paramref name="blockSizeBytes"/> and which spans
    /// <paramref name="deviceSizeBytes"/> bytes; <paramref name="position"/> (the entry's index in the stream) names it in errors.</summary>
    public static MapEntry FromMessage(Entry m, int blockSizeBytes, long deviceSizeBytes, long position)
    {
        string where = $"agent map entry {position}";
        CorruptStructure.Check(m.Path.Length > 0 && m.Path[0] == '/', where, position, "path is not absolute");
        CorruptStructure.Check(m.SizeBytes >= 0, where, position, $"negative size {m.SizeBytes}");
        SpecialFileKind? special = m.Kind switch
        {
            Entry.Types.Kind.Fifo => SpecialFileKind.Fifo,
            Entry.Types.Kind.CharDevice => SpecialFileKind.CharDevice,
            Entry.Types.Kind.BlockDevice => SpecialFileKind.BlockDevice,
            Entry.Types.Kind.Socket => SpecialFileKind.Socket,
            _ => null,
        };
        var kind = m.Kind switch
        {
            Entry.Types.Kind.File => MapEntryKind.File,
            Entry.Types.Kind.Directory => MapEntryKind.Directory,
            Entry.Types.Kind.Symlink => MapEntryKind.Symlink,
            Entry.Types.Kind.Unmappable => MapEntryKind.Unmappable,
            _ when special is not null => MapEntryKind.Special,
            _ => CorruptStructure.Throw<MapEntryKind>(where, position, $"unknown entry kind {(int)m.Kind}"),
        };
        bool device = special is { } sk && SpecialFiles.HasDevice(sk);
        CorruptStructure.Check(m.HasRdevMajor == device && m.HasRdevMinor == device, where, position,
            device ? $"{m.Kind} entry without its device number" : $"{m.Kind} entry with a device number");
        CorruptStructure.Check(special is null || m.Streams.Count == 0, where, position, $"{m.Kind} entry with data streams");
        var streams = new MapStream[m.Streams.Count];
        for (int i = 0; i < streams.Length; i++) streams[i] = FromMessage(m.Streams[i], blockSizeBytes, deviceSizeBytes, where, position);
        var xattrs = new Dictionary<string, ReadOnlyMemory<byte>>(m.Xattrs.Count, StringComparer.Ordinal);
        foreach (var (k, v) in m.Xattrs) xattrs[k] = v.ToByteArray();
        foreach (var link in m.Links) CorruptStructure.Check(link.Length > 0 && link[0] == '/', where, position, "link path is not absolute");
        return new MapEntry(kind, m.Path, m.Id)
        {
            Links = m.Links.ToList(),
            Sequence = m.Sequence,
            SizeBytes = m.SizeBytes,
            Attributes = m.Attributes.ToList(),
            Created = FromMessage(m.Created, where, position),
            Modified = FromMessage(m.Modified, where, position),
            Changed = FromMessage(m.Changed, where, position),
            Accessed = FromMessage(m.Accessed, where, position),
            Target = m.HasTarget ? m.Target : null,
            LinkKind = m.HasLinkKind ? m.LinkKind : null,
            Mode = m.HasMode ? m.Mode : null,
            Uid = m.HasUid ? m.Uid : null,
            Gid = m.HasGid ? m.Gid : null,
            Xattrs = xattrs,
            Streams = streams,
            Error = m.HasError ? m.Error : null,
            Special = special,
            Device = device ? new DeviceNumber(m.RdevMajor, m.RdevMinor) : null,
        };
    }

    static MapTime? FromMessage(Time? t, string where, long position)
    {
        if (t is null) return null;
        CorruptStructure.Check(t.Nanoseconds is >= 0 and < 1_000_000_000, where, position, $"nanoseconds {t.Nanoseconds} out of range");
        return new MapTime(t.UnixSeconds, t.Nanoseconds);
    }

    static MapStream FromMessage(V1.Stream m, int blockSizeBytes, long deviceSizeBytes, string where, long position)
    {
        CorruptStructure.Check(m.SizeBytes >= 0 && m.InitializedBytes >= 0 && m.InitializedBytes <= m.SizeBytes,
            where, position, $"stream '{m.Name}': size {m.SizeBytes} or initialized size {m.InitializedBytes} out of range");
        if (m.Resident)
        {
            CorruptStructure.Check(m.Extents.Count == 0 && m.ResidentData.Length == m.SizeBytes, where, position,
                $"resident stream '{m.Name}' holds {m.ResidentData.Length} bytes for size {m.SizeBytes}");
            return new MapStream(m.Name, m.SizeBytes) { ResidentData = m.ResidentData.ToByteArray(), InitializedBytes = m.InitializedBytes };
        }
        CorruptStructure.Check(!m.Compressed || m.CompressionUnitBytes is > 0 and <= 1 << 20, where, position,
            $"stream '{m.Name}': compression unit {m.CompressionUnitBytes} out of range");
        long deviceBlocks = deviceSizeBytes / blockSizeBytes;
        var extents = new MapExtent[m.Extents.Count];
        long expect = 0;
        for (int i = 0; i < extents.Length; i++)
        {
            var x = m.Extents[i];
            CorruptStructure.Check(x.OffsetBytes == expect && x.LengthBytes > 0 && x.LengthBytes <= m.SizeBytes - expect,
                where, position, $"stream '{m.Name}' extent {i}: [{x.OffsetBytes}, +{x.LengthBytes}) does not continue at {expect} within size {m.SizeBytes}");
            expect += x.LengthBytes;
            var runs = new Core.Mapping.PhysicalRun[x.Runs.Count];
            switch (x.Kind)
            {
                case Extent.Types.Kind.Data:
                    CorruptStructure.Check(x.Runs.Count == 0 && x.Blocks == (x.LengthBytes + blockSizeBytes - 1) / blockSizeBytes
                        && InDevice(x.Lba, x.Blocks, deviceBlocks), where, position,
                        $"stream '{m.Name}' extent {i}: {x.Blocks} blocks at LBA {x.Lba} do not hold {x.LengthBytes} bytes inside the device");
                    break;
                case Extent.Types.Kind.Zero:
                    CorruptStructure.Check(x.Runs.Count == 0 && x.Lba == 0 && x.Blocks == 0, where, position, $"stream '{m.Name}' extent {i}: zero extent with an address");
                    break;
                case Extent.Types.Kind.Compressed:
                    CorruptStructure.Check(m.Compressed && x.Runs.Count > 0, where, position, $"stream '{m.Name}' extent {i}: compressed extent without runs");
                    for (int r = 0; r < runs.Length; r++)
                    {
                        CorruptStructure.Check(x.Runs[r].Blocks > 0 && InDevice(x.Runs[r].Lba, x.Runs[r].Blocks, deviceBlocks), where, position,
                            $"stream '{m.Name}' extent {i} run {r} lies outside the device");
                        runs[r] = new Core.Mapping.PhysicalRun(x.Runs[r].Lba, x.Runs[r].Blocks);
                    }
                    break;
                default:
                    CorruptStructure.Throw(where, position, $"stream '{m.Name}' extent {i}: unknown kind {(int)x.Kind}");
                    break;
            }
            extents[i] = new MapExtent(x.OffsetBytes, x.LengthBytes, (ExtentKind)(int)x.Kind, x.Lba, x.Blocks) { Runs = runs.Length == 0 ? [] : runs };
        }
        CorruptStructure.Check(expect == m.SizeBytes, where, position, $"stream '{m.Name}': extents cover {expect} of {m.SizeBytes} bytes");
        return new MapStream(m.Name, m.SizeBytes)
        {
            InitializedBytes = m.InitializedBytes,
            Compressed = m.Compressed,
            Encrypted = m.Encrypted,
            Sparse = m.Sparse,
            CompressionUnitBytes = m.CompressionUnitBytes,
            Extents = extents,
        };
    }

    static bool InDevice(long lba, long blocks, long deviceBlocks) => lba >= 0 && blocks >= 0 && blocks <= deviceBlocks && lba <= deviceBlocks - blocks;
}
