using Offhost.Core.Mapping;

namespace Offhost.Mapping;

/// <summary>Counts over a storage map, for the person-readable summary of <c>offhost map</c>.</summary>
public sealed class MapSummary
{
    public long Files { get; private set; }
    public long Directories { get; private set; }
    public long Symlinks { get; private set; }
    /// <summary>FIFOs, device nodes and sockets.</summary>
    public long SpecialFiles { get; private set; }
    public long Unmappable { get; private set; }
    public long ResidentStreams { get; private set; }
    public long NonResidentStreams { get; private set; }
    public long SparseStreams { get; private set; }
    public long CompressedStreams { get; private set; }
    public long EncryptedStreams { get; private set; }
    /// <summary>Bytes of stream data the map locates: resident bytes plus data and compressed extents (not zero ranges).</summary>
    public long BytesMapped { get; private set; }
    /// <summary>Bytes of all streams, zero ranges included.</summary>
    public long LogicalBytes { get; private set; }
    /// <summary>The first few unmappable entries, for the summary.</summary>
    public List<MapEntry> FirstUnmappable { get; } = [];

    public void Add(MapEntry e)
    {
        switch (e.Kind)
        {
            case MapEntryKind.File: Files++; break;
            case MapEntryKind.Directory: Directories++; break;
            case MapEntryKind.Symlink: Symlinks++; break;
            case MapEntryKind.Special: SpecialFiles++; break;
            case MapEntryKind.Unmappable:
                Unmappable++;
                if (FirstUnmappable.Count < 20) FirstUnmappable.Add(e);
                return;
        }
        // Index loops: a foreach over the IReadOnlyList interfaces allocates an enumerator per entry and stream.
        var streams = e.Streams;
        for (int i = 0; i < streams.Count; i++)
        {
            var s = streams[i];
            LogicalBytes += s.SizeBytes;
            if (s.IsResident)
            {
                ResidentStreams++;
                BytesMapped += s.SizeBytes;
                continue;
            }
            NonResidentStreams++;
            if (s.Compressed) CompressedStreams++;
            if (s.Encrypted) EncryptedStreams++;
            bool sparse = false;
            var extents = s.Extents;
            for (int j = 0; j < extents.Count; j++)
            {
                var x = extents[j];
                if (x.Kind == ExtentKind.Zero) sparse = true;
                else BytesMapped += x.LengthBytes;
            }
            if (sparse || s.Sparse) SparseStreams++;
        }
    }
}
