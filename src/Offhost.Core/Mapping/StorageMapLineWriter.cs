using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Encodings.Web;

namespace Offhost.Core.Mapping;

/// <summary>
/// Writes storage-map JSON Lines (docs/formats/storage-map.md) straight into a byte buffer, one record and its '\n' per
/// call, byte for byte what <see cref="StorageMapJson"/> writes through <see cref="System.Text.Json.Utf8JsonWriter"/> and
/// several times faster: no per-line flush and reset, and plain ASCII strings (nearly every path) are copied without the
/// encoder. Strings that need escaping go through the same encoder as <see cref="StorageMapJson.WriterOptions"/>.
/// The buffer is written to <paramref name="output"/> when full and on <see cref="Flush"/>. Not thread-safe.
/// </summary>
public sealed class StorageMapLineWriter(Stream output) : IDisposable
{
    const int InitialBytes = 1 << 20;
    static readonly JavaScriptEncoder Encoder = StorageMapJson.WriterOptions.Encoder!;

    byte[] buffer = ArrayPool<byte>.Shared.Rent(InitialBytes);
    int used;
    ArrayBufferWriter<byte>? slow;

    /// <summary>The volume record and its newline (rare: written through <see cref="StorageMapJson.WriteVolume"/>).</summary>
    public void WriteVolume(VolumeInfo volume)
    {
        slow ??= new ArrayBufferWriter<byte>();
        slow.ResetWrittenCount();
        using (var w = StorageMapJson.CreateWriter(slow)) StorageMapJson.WriteVolume(w, volume);
        Raw(slow.WrittenSpan);
        Byte((byte)'\n');
    }

    /// <summary>One entry record and its newline.</summary>
    public void WriteEntry(MapEntry e)
    {
        ArgumentNullException.ThrowIfNull(e);
        Raw("{\"type\":"u8);
        Raw(e.Kind switch
        {
            MapEntryKind.File => "\"file\""u8,
            MapEntryKind.Directory => "\"dir\""u8,
            MapEntryKind.Symlink => "\"symlink\""u8,
            MapEntryKind.Special => StorageMapJson.SpecialOf(e) switch
            {
                SpecialFileKind.Fifo => "\"fifo\""u8,
                SpecialFileKind.CharDevice => "\"chardev\""u8,
                SpecialFileKind.BlockDevice => "\"blockdev\""u8,
                _ => "\"socket\""u8,
            },
            _ => "\"unmappable\""u8,
        });
        Raw(",\"path\":"u8);
        String(e.Path);
        if (e.Kind == MapEntryKind.Unmappable)
        {
            Raw(",\"id\":"u8);
            Number(e.Id);
            Raw(",\"error\":"u8);
            String(e.Error ?? "");
            Raw("}\n"u8);
            return;
        }
        Raw(",\"links\":["u8);
        for (int i = 0; i < e.Links.Count; i++)
        {
            if (i > 0) Byte((byte)',');
            String(e.Links[i]);
        }
        Raw("],\"id\":"u8);
        Number(e.Id);
        Raw(",\"sequence\":"u8);
        Number(e.Sequence);
        Raw(",\"size\":"u8);
        Number(e.SizeBytes);
        Raw(",\"attributes\":["u8);
        for (int i = 0; i < e.Attributes.Count; i++)
        {
            if (i > 0) Byte((byte)',');
            String(e.Attributes[i]);
        }
        Byte((byte)']');
        Time(",\"created\":"u8, e.Created);
        Time(",\"modified\":"u8, e.Modified);
        Time(",\"changed\":"u8, e.Changed);
        Time(",\"accessed\":"u8, e.Accessed);
        if (e.Target is not null) { Raw(",\"target\":"u8); String(e.Target); }
        if (e.LinkKind is not null) { Raw(",\"link_kind\":"u8); String(e.LinkKind); }
        if (e.Mode is uint mode) { Raw(",\"mode\":"u8); Number(mode); }
        if (e.Uid is uint uid) { Raw(",\"uid\":"u8); Number(uid); }
        if (e.Gid is uint gid) { Raw(",\"gid\":"u8); Number(gid); }
        if (e.Device is DeviceNumber dev)
        {
            Raw(",\"rdev\":{\"major\":"u8);
            Number(dev.Major);
            Raw(",\"minor\":"u8);
            Number(dev.Minor);
            Byte((byte)'}');
        }
        if (e.Xattrs.Count > 0)
        {
            Raw(",\"xattrs\":{"u8);
            bool first = true;
            foreach (var (k, v) in e.Xattrs)
            {
                if (!first) Byte((byte)',');
                first = false;
                String(k);
                Byte((byte)':');
                Base64(v.Span);
            }
            Byte((byte)'}');
        }
        Raw(",\"streams\":["u8);
        for (int i = 0; i < e.Streams.Count; i++)
        {
            if (i > 0) Byte((byte)',');
            Stream(e.Streams[i]);
        }
        Raw("]}\n"u8);
    }

    void Stream(MapStream s)
    {
        Raw("{\"name\":"u8);
        String(s.Name);
        Raw(",\"size\":"u8);
        Number(s.SizeBytes);
        if (s.ResidentData is ReadOnlyMemory<byte> data)
        {
            Raw(",\"resident\":true,\"data\":"u8);
            Base64(data.Span);
            Byte((byte)'}');
            return;
        }
        Raw(",\"initialized\":"u8);
        Number(s.InitializedBytes);
        Raw(s.Compressed ? ",\"compressed\":true"u8 : ",\"compressed\":false"u8);
        if (s.Encrypted) Raw(",\"encrypted\":true"u8);
        if (s.Sparse) Raw(",\"sparse\":true"u8);
        if (s.Compressed) { Raw(",\"compression_unit\":"u8); Number(s.CompressionUnitBytes); }
        Raw(",\"extents\":["u8);
        var extents = s.Extents;
        for (int i = 0; i < extents.Count; i++)
        {
            var x = extents[i];
            if (i > 0) Byte((byte)',');
            Raw("{\"offset\":"u8);
            Number(x.OffsetBytes);
            Raw(",\"length\":"u8);
            Number(x.LengthBytes);
            switch (x.Kind)
            {
                case ExtentKind.Data:
                    Raw(",\"lba\":"u8);
                    Number(x.Lba);
                    Raw(",\"blocks\":"u8);
                    Number(x.Blocks);
                    break;
                case ExtentKind.Zero:
                    Raw(",\"zero\":true"u8);
                    break;
                case ExtentKind.Compressed:
                    Raw(",\"lznt1\":true,\"runs\":["u8);
                    for (int r = 0; r < x.Runs.Count; r++)
                    {
                        if (r > 0) Byte((byte)',');
                        Raw("{\"lba\":"u8);
                        Number(x.Runs[r].Lba);
                        Raw(",\"blocks\":"u8);
                        Number(x.Runs[r].Blocks);
                        Byte((byte)'}');
                    }
                    Byte((byte)']');
                    break;
            }
            Byte((byte)'}');
        }
        Raw("]}"u8);
    }

    void Time(ReadOnlySpan<byte> name, MapTime? t)
    {
        if (t is not MapTime v) return;
        Raw(name);
        // An entry's four times are often the same, and neighbouring entries' too.
        if (lastTimeLength < 0 || v != lastTime)
        {
            lastTimeLength = FormatTime(v, lastTimeText);
            lastTime = v;
        }
        Ensure(lastTimeLength + 2);
        buffer[used++] = (byte)'"';
        lastTimeText.AsSpan(0, lastTimeLength).CopyTo(buffer.AsSpan(used));
        used += lastTimeLength;
        buffer[used++] = (byte)'"';
    }

    MapTime lastTime;
    int lastTimeLength = -1;
    readonly byte[] lastTimeText = new byte[MapTime.MaxUtf8Bytes];

    /// <summary>
    /// The text of <see cref="MapTime.FormatUtf8"/> (same clamping to years 1..9999, same trimmed fraction) with the
    /// civil date computed once from the day number instead of once per field.
    /// </summary>
    public static int FormatTime(MapTime t, Span<byte> dst)
    {
        int ns = t.Nanoseconds;
        if (ns < 0 || ns >= 1_000_000_000) return t.FormatUtf8(dst);
        long seconds = Math.Clamp(t.UnixSeconds, -62135596800, 253402300799);
        long days = Math.DivRem(seconds, 86400, out long secondOfDay);
        if (secondOfDay < 0) { secondOfDay += 86400; days--; }
        // Days since 1970-01-01 to year, month, day (proleptic Gregorian; H. Hinnant's civil_from_days).
        long z = days + 719468;
        long era = (z >= 0 ? z : z - 146096) / 146097;
        long doe = z - era * 146097;
        long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        int day = (int)(doy - (153 * mp + 2) / 5 + 1);
        int month = (int)(mp < 10 ? mp + 3 : mp - 9);
        int year = (int)(yoe + era * 400 + (month <= 2 ? 1 : 0));
        int sod = (int)secondOfDay;
        Digits(dst, 0, year, 4); dst[4] = (byte)'-';
        Digits(dst, 5, month, 2); dst[7] = (byte)'-';
        Digits(dst, 8, day, 2); dst[10] = (byte)'T';
        Digits(dst, 11, sod / 3600, 2); dst[13] = (byte)':';
        Digits(dst, 14, sod / 60 % 60, 2); dst[16] = (byte)':';
        Digits(dst, 17, sod % 60, 2);
        int at = 19;
        if (ns != 0)
        {
            dst[at++] = (byte)'.';
            int width = 9;
            while (ns % 10 == 0) { ns /= 10; width--; }
            Digits(dst, at, ns, width);
            at += width;
        }
        dst[at++] = (byte)'Z';
        return at;
    }

    static void Digits(Span<byte> d, int at, int value, int count)
    {
        for (int i = count - 1; i >= 0; i--) { d[at + i] = (byte)('0' + value % 10); value /= 10; }
    }

    /// <summary>A JSON string: copied when every character is printable ASCII other than '"' and '\', else escaped by the encoder.</summary>
    void String(string s)
    {
        Ensure(s.Length + 2);
        var span = buffer.AsSpan(used + 1, s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') { EscapedString(s); return; }
            span[i] = (byte)c;
        }
        buffer[used] = (byte)'"';
        buffer[used + 1 + s.Length] = (byte)'"';
        used += s.Length + 2;
    }

    void EscapedString(string s)
    {
        // The same encoder Utf8JsonWriter uses: short escapes, \uXXXX for the rest, U+FFFD for a lone surrogate.
        string escaped = Encoder.Encode(s);
        Ensure(Encoding.UTF8.GetByteCount(escaped) + 2);
        buffer[used++] = (byte)'"';
        used += Encoding.UTF8.GetBytes(escaped, buffer.AsSpan(used));
        buffer[used++] = (byte)'"';
    }

    void Base64(ReadOnlySpan<byte> data)
    {
        int n = System.Buffers.Text.Base64.GetMaxEncodedToUtf8Length(data.Length);
        Ensure(n + 2);
        buffer[used++] = (byte)'"';
        System.Buffers.Text.Base64.EncodeToUtf8(data, buffer.AsSpan(used), out _, out int written);
        used += written;
        buffer[used++] = (byte)'"';
    }

    void Number(long v)
    {
        Ensure(20);
        Utf8Formatter.TryFormat(v, buffer.AsSpan(used), out int n);
        used += n;
    }

    void Number(ulong v)
    {
        Ensure(20);
        Utf8Formatter.TryFormat(v, buffer.AsSpan(used), out int n);
        used += n;
    }

    void Byte(byte b)
    {
        Ensure(1);
        buffer[used++] = b;
    }

    void Raw(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(buffer.AsSpan(used));
        used += bytes.Length;
    }

    void Ensure(int bytes)
    {
        if (used + bytes <= buffer.Length) return;
        Flush();
        if (bytes <= buffer.Length) return;
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = ArrayPool<byte>.Shared.Rent(bytes);
    }

    /// <summary>Writes what is buffered to the output stream.</summary>
    public void Flush()
    {
        if (used == 0) return;
        output.Write(buffer, 0, used);
        used = 0;
    }

    public void Dispose()
    {
        Flush();
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = [];
    }
}
