using System.Text.Json;

namespace Offhost.Core.Mapping;

/// <summary>
/// The storage map's JSON Lines form (docs/formats/storage-map.md): one volume record, then one record per
/// entry. Writing is streaming; reading parses one line at a time.
/// </summary>
public static class StorageMapJson
{
    /// <summary>No HTML-safe escaping: the map is data for programs, and names stay readable (UTF-8, not \uXXXX).</summary>
    public static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        SkipValidation = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void WriteVolume(Utf8JsonWriter w, VolumeInfo v)
    {
        w.WriteStartObject();
        w.WriteString("type", "volume");
        w.WriteString("filesystem", v.FileSystem);
        w.WriteString("device", v.Device);
        w.WriteNumber("block_size", v.BlockSizeBytes);
        w.WriteNumber("cluster_size", v.ClusterSizeBytes);
        w.WriteNumber("partition_offset", v.PartitionOffsetBytes);
        w.WriteNumber("size", v.SizeBytes);
        w.WriteString("label", v.Label ?? "");
        w.WriteString("serial", v.Serial ?? "");
        if (v.Uuid is not null) w.WriteString("uuid", v.Uuid);
        if (v.Partition is int p) w.WriteNumber("partition", p);
        if (v.Warnings.Count > 0)
        {
            w.WriteStartArray("warnings");
            foreach (var s in v.Warnings) w.WriteStringValue(s);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    public static void WriteEntry(Utf8JsonWriter w, MapEntry e)
    {
        w.WriteStartObject();
        w.WriteString("type", e.Kind switch
        {
            MapEntryKind.File => "file",
            MapEntryKind.Directory => "dir",
            MapEntryKind.Symlink => "symlink",
            MapEntryKind.Special => SpecialFiles.Name(SpecialOf(e)),
            _ => "unmappable",
        });
        w.WriteString("path", e.Path);
        if (e.Kind == MapEntryKind.Unmappable)
        {
            w.WriteNumber("id", e.Id);
            w.WriteString("error", e.Error ?? "");
            w.WriteEndObject();
            return;
        }
        w.WriteStartArray("links");
        foreach (var l in e.Links) w.WriteStringValue(l);
        w.WriteEndArray();
        w.WriteNumber("id", e.Id);
        w.WriteNumber("sequence", e.Sequence);
        w.WriteNumber("size", e.SizeBytes);
        w.WriteStartArray("attributes");
        foreach (var a in e.Attributes) w.WriteStringValue(a);
        w.WriteEndArray();
        WriteTime(w, "created", e.Created);
        WriteTime(w, "modified", e.Modified);
        WriteTime(w, "changed", e.Changed);
        WriteTime(w, "accessed", e.Accessed);
        if (e.Target is not null) w.WriteString("target", e.Target);
        if (e.LinkKind is not null) w.WriteString("link_kind", e.LinkKind);
        if (e.Mode is uint mode) w.WriteNumber("mode", mode);
        if (e.Uid is uint uid) w.WriteNumber("uid", uid);
        if (e.Gid is uint gid) w.WriteNumber("gid", gid);
        if (e.Device is DeviceNumber dev)
        {
            w.WriteStartObject("rdev");
            w.WriteNumber("major", dev.Major);
            w.WriteNumber("minor", dev.Minor);
            w.WriteEndObject();
        }
        if (e.Xattrs.Count > 0)
        {
            w.WriteStartObject("xattrs");
            foreach (var (k, v) in e.Xattrs) w.WriteBase64String(k, v.Span);
            w.WriteEndObject();
        }
        w.WriteStartArray("streams");
        foreach (var s in e.Streams) WriteStream(w, s);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The special kind of a <see cref="MapEntryKind.Special"/> entry; an entry without one is a caller's bug.</summary>
    internal static SpecialFileKind SpecialOf(MapEntry e) =>
        e.Special ?? throw new ArgumentException($"special entry '{e.Path}' does not say which kind of special file it is", nameof(e));

    static void WriteTime(Utf8JsonWriter w, string name, MapTime? t)
    {
        if (t is not MapTime v) return;
        Span<byte> text = stackalloc byte[MapTime.MaxUtf8Bytes];
        w.WriteString(name, text[..v.FormatUtf8(text)]);
    }

    static void WriteStream(Utf8JsonWriter w, MapStream s)
    {
        w.WriteStartObject();
        w.WriteString("name", s.Name);
        w.WriteNumber("size", s.SizeBytes);
        if (s.ResidentData is ReadOnlyMemory<byte> data)
        {
            w.WriteBoolean("resident", true);
            w.WriteBase64String("data", data.Span);
            w.WriteEndObject();
            return;
        }
        w.WriteNumber("initialized", s.InitializedBytes);
        w.WriteBoolean("compressed", s.Compressed);
        if (s.Encrypted) w.WriteBoolean("encrypted", true);
        if (s.Sparse) w.WriteBoolean("sparse", true);
        if (s.Compressed) w.WriteNumber("compression_unit", s.CompressionUnitBytes);
        w.WriteStartArray("extents");
        foreach (var x in s.Extents)
        {
            w.WriteStartObject();
            w.WriteNumber("offset", x.OffsetBytes);
            w.WriteNumber("length", x.LengthBytes);
            switch (x.Kind)
            {
                case ExtentKind.Data:
                    w.WriteNumber("lba", x.Lba);
                    w.WriteNumber("blocks", x.Blocks);
                    break;
                case ExtentKind.Zero:
                    w.WriteBoolean("zero", true);
                    break;
                case ExtentKind.Compressed:
                    w.WriteBoolean("lznt1", true);
                    w.WriteStartArray("runs");
                    foreach (var r in x.Runs)
                    {
                        w.WriteStartObject();
                        w.WriteNumber("lba", r.Lba);
                        w.WriteNumber("blocks", r.Blocks);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    break;
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Creates a writer for one line; callers write a record, flush, then write '\n'.</summary>
    public static Utf8JsonWriter CreateWriter(System.Buffers.IBufferWriter<byte> output) => new(output, WriterOptions);

    /// <summary>Reads a volume record line.</summary>
    public static VolumeInfo ReadVolume(ReadOnlySpan<byte> line)
    {
        using var doc = JsonDocument.Parse(line.ToArray());
        var r = doc.RootElement;
        if (r.GetProperty("type").GetString() != "volume") throw new InvalidDataException("storage map: first record is not a volume record");
        return new VolumeInfo(
            r.GetProperty("filesystem").GetString()!,
            r.GetProperty("device").GetString()!,
            r.GetProperty("block_size").GetInt32(),
            r.GetProperty("cluster_size").GetInt32(),
            r.GetProperty("partition_offset").GetInt64(),
            r.GetProperty("size").GetInt64(),
            r.TryGetProperty("label", out var l) ? l.GetString() : null,
            r.TryGetProperty("serial", out var s) ? s.GetString() : null)
        {
            Uuid = r.TryGetProperty("uuid", out var u) ? u.GetString() : null,
            Partition = r.TryGetProperty("partition", out var p) ? p.GetInt32() : null,
            Warnings = r.TryGetProperty("warnings", out var ws) ? ws.EnumerateArray().Select(x => x.GetString()!).ToArray() : [],
        };
    }

    /// <summary>Reads one entry line.</summary>
    public static MapEntry ReadEntry(ReadOnlySpan<byte> line)
    {
        using var doc = JsonDocument.Parse(line.ToArray());
        var r = doc.RootElement;
        string? type = r.GetProperty("type").GetString();
        var special = SpecialFiles.Parse(type);
        var kind = type switch
        {
            "file" => MapEntryKind.File,
            "dir" => MapEntryKind.Directory,
            "symlink" => MapEntryKind.Symlink,
            "unmappable" => MapEntryKind.Unmappable,
            _ when special is not null => MapEntryKind.Special,
            var other => throw new InvalidDataException($"storage map: unknown record type '{other}'"),
        };
        var e = new MapEntry(kind, r.GetProperty("path").GetString()!, r.GetProperty("id").GetUInt64());
        if (kind == MapEntryKind.Unmappable) return e with { Error = r.GetProperty("error").GetString() };
        bool hasRdev = r.TryGetProperty("rdev", out var rdev);
        if (hasRdev != (special is SpecialFileKind k && SpecialFiles.HasDevice(k)))
            throw new InvalidDataException($"storage map: '{type}' record {(hasRdev ? "with" : "without")} \"rdev\"");
        return e with
        {
            Links = r.GetProperty("links").EnumerateArray().Select(x => x.GetString()!).ToArray(),
            Sequence = r.GetProperty("sequence").GetUInt32(),
            SizeBytes = r.GetProperty("size").GetInt64(),
            Attributes = r.GetProperty("attributes").EnumerateArray().Select(x => x.GetString()!).ToArray(),
            Created = Time(r, "created"),
            Modified = Time(r, "modified"),
            Changed = Time(r, "changed"),
            Accessed = Time(r, "accessed"),
            Target = r.TryGetProperty("target", out var t) ? t.GetString() : null,
            LinkKind = r.TryGetProperty("link_kind", out var lk) ? lk.GetString() : null,
            Mode = r.TryGetProperty("mode", out var m) ? m.GetUInt32() : null,
            Uid = r.TryGetProperty("uid", out var uid) ? uid.GetUInt32() : null,
            Gid = r.TryGetProperty("gid", out var gid) ? gid.GetUInt32() : null,
            Xattrs = r.TryGetProperty("xattrs", out var xa)
                ? xa.EnumerateObject().ToDictionary(p => p.Name, p => (ReadOnlyMemory<byte>)p.Value.GetBytesFromBase64())
                : new Dictionary<string, ReadOnlyMemory<byte>>(),
            Streams = r.GetProperty("streams").EnumerateArray().Select(ReadStream).ToArray(),
            Special = special,
            Device = hasRdev ? new DeviceNumber(rdev.GetProperty("major").GetUInt32(), rdev.GetProperty("minor").GetUInt32()) : null,
        };
    }

    static MapTime? Time(JsonElement r, string name) => r.TryGetProperty(name, out var v) ? MapTime.Parse(v.GetString()!) : null;

    static MapStream ReadStream(JsonElement s)
    {
        var st = new MapStream(s.GetProperty("name").GetString()!, s.GetProperty("size").GetInt64());
        if (s.TryGetProperty("resident", out var res) && res.GetBoolean())
            return st with { ResidentData = s.GetProperty("data").GetBytesFromBase64(), InitializedBytes = st.SizeBytes };
        return st with
        {
            InitializedBytes = s.GetProperty("initialized").GetInt64(),
            Compressed = s.GetProperty("compressed").GetBoolean(),
            Encrypted = s.TryGetProperty("encrypted", out var enc) && enc.GetBoolean(),
            Sparse = s.TryGetProperty("sparse", out var sp) && sp.GetBoolean(),
            CompressionUnitBytes = s.TryGetProperty("compression_unit", out var cu) ? cu.GetInt32() : 0,
            Extents = s.GetProperty("extents").EnumerateArray().Select(ReadExtent).ToArray(),
        };
    }

    static MapExtent ReadExtent(JsonElement x)
    {
        long off = x.GetProperty("offset").GetInt64(), len = x.GetProperty("length").GetInt64();
        if (x.TryGetProperty("zero", out var z) && z.GetBoolean()) return MapExtent.Zero(off, len);
        if (x.TryGetProperty("lznt1", out var c) && c.GetBoolean())
            return new MapExtent(off, len, ExtentKind.Compressed, 0, 0)
            {
                Runs = x.GetProperty("runs").EnumerateArray()
                    .Select(r => new PhysicalRun(r.GetProperty("lba").GetInt64(), r.GetProperty("blocks").GetInt64())).ToArray(),
            };
        return new MapExtent(off, len, ExtentKind.Data, x.GetProperty("lba").GetInt64(), x.GetProperty("blocks").GetInt64());
    }
}
