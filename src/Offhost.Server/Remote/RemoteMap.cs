using Grpc.Core;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Rpc;
using Offhost.Rpc.V1;

namespace Offhost.Server.Remote;

/// <summary>One volume of a storage map received from an agent, with the identity of the device its extents address.
/// <see cref="Number"/> is 1-based; extents are in units of <see cref="VolumeInfo.BlockSizeBytes"/> from the start of the
/// device. Not thread-safe (a remap replaces entries in place).</summary>
public sealed class RemoteVolume(int number, VolumeInfo volume, DeviceIdentity identity)
{
    public int Number { get; } = number;
    public VolumeInfo Volume { get; internal set; } = volume;
    public DeviceIdentity Identity { get; } = identity;
    internal List<MapEntry> Entries { get; } = [];
    internal List<(long StartBytes, long LengthBytes)>? Allocated { get; set; }

    public IReadOnlyList<MapEntry> EntryList => Entries;
}

/// <summary>What a remap changed: entries that are new or different, and entries that are gone.</summary>
public sealed record RemapResult(string Since, string ConfigurationId, IReadOnlyList<(int Volume, MapEntry Entry)> Changed, IReadOnlyList<(int Volume, string Path)> Removed)
{
    /// <summary>One line for the catalog: the IDs, counts, and the changed and removed paths.</summary>
    public string Describe()
    {
        var changed = Changed.Select(c => $"{c.Volume}:{c.Entry.Path}");
        var removed = Removed.Select(r => $"{r.Volume}:{r.Path}");
        long dataBytes = Changed.Sum(c => c.Entry.Streams.Sum(s => s.Extents.Where(x => x.Kind != ExtentKind.Zero).Sum(x => x.LengthBytes)));
        return $"remap {Since} -> {ConfigurationId}: {Changed.Count} changed ({dataBytes} bytes in their extents), {Removed.Count} removed; " +
               $"changed: [{string.Join(", ", changed)}]; removed: [{string.Join(", ", removed)}]";
    }
}

/// <summary>
/// A storage map fetched from an agent: the volumes and their entries, held in memory on the backup host, and the
/// configuration ID they describe. A remap is applied in place. Not thread-safe.
/// </summary>
public sealed class RemoteMap
{
    /// <summary>Upper bound on the entries accepted from an agent, so a broken agent cannot exhaust memory.</summary>
    public const long MaxEntries = 50_000_000;

    RemoteMap(IReadOnlyList<RemoteVolume> volumes, string configurationId)
    {
        Volumes = volumes;
        ConfigurationId = configurationId;
    }

    public IReadOnlyList<RemoteVolume> Volumes { get; }

    /// <summary>The configuration ID this map (with the remaps applied) describes.</summary>
    public string ConfigurationId { get; private set; }

    public IReadOnlyList<RemapResult> Remaps => _remaps;
    readonly List<RemapResult> _remaps = [];

    public static async Task<RemoteMap> ReadAsync(IAsyncStreamReader<MapChunk> chunks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var volumes = new List<RemoteVolume>();
        var r = await ReadChunksAsync(chunks, volumes, full: true, cancellationToken).ConfigureAwait(false);
        if (r.Removed.Count > 0) throw new CorruptStructureException("agent map stream", r.Chunks, "a full map lists removed paths");
        return new RemoteMap(volumes, r.ConfigurationId);
    }

    /// <summary>Reads a remap stream and applies it: changed entries replace those with the same path (or are added), removed
    /// entries are dropped. Returns what changed.</summary>
    public async Task<RemapResult> ApplyRemapAsync(IAsyncStreamReader<MapChunk> chunks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var scratch = Volumes.Select(v => new RemoteVolume(v.Number, v.Volume, v.Identity)).ToList();
        var r = await ReadChunksAsync(chunks, scratch, full: false, cancellationToken).ConfigureAwait(false);
        var changed = new List<(int, MapEntry)>();
        foreach (var v in scratch)
        {
            var target = Volumes[v.Number - 1];
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < target.Entries.Count; i++) index[target.Entries[i].Path] = i;
            foreach (var e in v.Entries)
            {
                if (index.TryGetValue(e.Path, out int at)) target.Entries[at] = e;
                else target.Entries.Add(e);
                changed.Add((v.Number, e));
            }
        }
        var removed = new List<(int, string)>();
        foreach (var key in r.Removed)
        {
            int colon = key.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !int.TryParse(key.AsSpan(0, colon), System.Globalization.CultureInfo.InvariantCulture, out int vol) || vol < 1 || vol > Volumes.Count)
                throw new CorruptStructureException("agent remap stream", r.Chunks, $"removed entry '{key}' does not name a volume of the map");
            string path = key[(colon + 1)..];
            Volumes[vol - 1].Entries.RemoveAll(e => e.Path == path);
            removed.Add((vol, path));
        }
        var result = new RemapResult(ConfigurationId, r.ConfigurationId, changed, removed);
        ConfigurationId = r.ConfigurationId;
        _remaps.Add(result);
        return result;
    }

    sealed record ChunkResult(string ConfigurationId, List<string> Removed, long Chunks);

    static async Task<ChunkResult> ReadChunksAsync(IAsyncStreamReader<MapChunk> chunks, List<RemoteVolume> volumes, bool full, CancellationToken ct)
    {
        long position = 0, entries = 0;
        var removed = new List<string>();
        RemoteVolume? current = null;
        while (await chunks.MoveNext(ct).ConfigureAwait(false))
        {
            var c = chunks.Current;
            string where = "agent map stream";
            if (c.EndOfMap)
            {
                if (current is not null) throw new CorruptStructureException(where, position, $"the map ended inside volume {current.Number}");
                if (!c.ConfigurationId.StartsWith("cfg1-", StringComparison.Ordinal))
                    throw new CorruptStructureException(where, position, "the map ended without a configuration ID");
                removed.AddRange(c.RemovedPaths);
                if (await chunks.MoveNext(ct).ConfigureAwait(false)) throw new CorruptStructureException(where, position + 1, "chunks after the end of the map");
                return new ChunkResult(c.ConfigurationId, removed, position);
            }
            if (c.VolumeRecord is not null)
            {
                if (current is not null) throw new CorruptStructureException(where, position, $"volume {c.Volume} starts inside volume {current.Number}");
                var info = MapMessages.FromMessage(c.VolumeRecord, position);
                if (full)
                {
                    if (c.Volume != volumes.Count + 1 || c.VolumeRecord.Index != c.Volume)
                        throw new CorruptStructureException(where, position, $"volume {c.Volume} out of order");
                    volumes.Add(new RemoteVolume(c.Volume, info, c.VolumeRecord.Identity));
                }
                else if (c.Volume < 1 || c.Volume > volumes.Count)
                    throw new CorruptStructureException(where, position, $"remap names volume {c.Volume}, the map has {volumes.Count}");
                current = volumes[c.Volume - 1];
            }
            if (current is null || c.Volume != current.Number)
                throw new CorruptStructureException(where, position, $"chunk for volume {c.Volume} outside its volume");
            foreach (var m in c.Entries)
            {
                if (++entries > MaxEntries) throw new CorruptStructureException(where, position, $"more than {MaxEntries} entries");
                current.Entries.Add(MapMessages.FromMessage(m, current.Volume.BlockSizeBytes, current.Identity.DeviceSizeBytes, entries - 1));
            }
            if (c.HasAllocation)
            {
                current.Allocated ??= [];
                foreach (var a in c.Allocated)
                {
                    if (a.StartBytes < 0 || a.LengthBytes <= 0 || a.StartBytes > current.Identity.DeviceSizeBytes - a.LengthBytes
                        || (current.Allocated.Count > 0 && a.StartBytes < current.Allocated[^1].StartBytes + current.Allocated[^1].LengthBytes))
                        throw new CorruptStructureException(where, position, $"allocated range [{a.StartBytes}, +{a.LengthBytes}) out of order or outside the device");
                    current.Allocated.Add((a.StartBytes, a.LengthBytes));
                }
            }
            if (c.VolumeEnd) current = null;
            position++;
        }
        throw new CorruptStructureException("agent map stream", position, "the stream ended before the end of the map (agent gone?)");
    }

    /// <summary>The volumes as mappers over the received entries, with <paramref name="device"/> as the device id their
    /// extents address on this host.</summary>
    public IReadOnlyList<IVolumeMapper> Mappers(string device) =>
        Volumes.Select(v => (IVolumeMapper)new RemoteVolumeMapper(v.Volume with { Device = device }, v.Entries, v.Allocated)).ToList();
}

/// <summary>A received map volume as an <see cref="IVolumeMapper"/>: replays the entries, no device I/O.</summary>
internal sealed class RemoteVolumeMapper(VolumeInfo volume, IReadOnlyList<MapEntry> entries, IReadOnlyList<(long, long)>? allocated) : IVolumeMapper, IAllocationMap
{
    public VolumeInfo Volume { get; } = volume;
    public MapStatistics Statistics { get; } = new();

    public IEnumerable<MapEntry> Entries(CancellationToken cancellationToken)
    {
        foreach (var e in entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Statistics.RecordsScanned++;
            yield return e;
        }
    }

    public IEnumerable<(long StartBytes, long LengthBytes)> AllocatedRanges(CancellationToken cancellationToken) =>
        allocated ?? throw new CorruptStructureException("agent allocation map", -1, "the agent sent no allocated ranges for this volume");
}
