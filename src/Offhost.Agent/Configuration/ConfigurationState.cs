using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Offhost.Core.Mapping;

namespace Offhost.Agent.Configuration;

/// <summary>
/// The configuration of a frozen image at one moment: its configuration ID and the fingerprint of every entry, so a
/// later state can be compared entry by entry. Immutable once built; thread-safe to read.
/// </summary>
public sealed class ConfigurationState
{
    internal ConfigurationState(string id, IReadOnlyList<UInt128> volumeDigests, Dictionary<string, UInt128> entries)
    {
        Id = id;
        VolumeDigests = volumeDigests;
        Entries = entries;
    }

    /// <summary><c>cfg1-</c> and 64 hex digits: SHA-256 over the snapshot state, every volume record and every entry
    /// fingerprint in map order.</summary>
    public string Id { get; }

    /// <summary>One digest per volume record (file system, block and cluster size, offset, size, label, serial, UUID).</summary>
    public IReadOnlyList<UInt128> VolumeDigests { get; }

    /// <summary>Entry fingerprints by <see cref="Key"/>.</summary>
    public IReadOnlyDictionary<string, UInt128> Entries { get; }

    /// <summary>The key of an entry: its 1-based volume number and path.</summary>
    public static string Key(int volume, string path) => volume.ToString(System.Globalization.CultureInfo.InvariantCulture) + ":" + path;

    /// <summary>True when <paramref name="entry"/> of <paramref name="volume"/> is new or differs from this state.</summary>
    public bool Differs(int volume, MapEntry entry, UInt128 fingerprint) =>
        !Entries.TryGetValue(Key(volume, entry.Path), out var before) || before != fingerprint;

    /// <summary>Keys of this state that <paramref name="later"/> no longer has.</summary>
    public IEnumerable<string> RemovedIn(ConfigurationState later)
    {
        ArgumentNullException.ThrowIfNull(later);
        return Entries.Keys.Where(k => !later.Entries.ContainsKey(k));
    }
}

/// <summary>
/// Builds a <see cref="ConfigurationState"/> from one pass over an image: the snapshot state first, then each volume
/// record followed by its entries, in map order. Pure: callers supply the facts. Not thread-safe.
/// </summary>
public sealed class ConfigurationBuilder
{
    readonly IncrementalHash _id = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    readonly List<UInt128> _volumes = [];
    readonly Dictionary<string, UInt128> _entries = new(StringComparer.Ordinal);
    int _volume;
    bool _done;

    /// <summary>Starts with the snapshot's own state (<see cref="SnapshotState.Describe"/>).</summary>
    public ConfigurationBuilder(string snapshotState)
    {
        ArgumentNullException.ThrowIfNull(snapshotState);
        Append("snapshot", Encoding.UTF8.GetBytes(snapshotState));
    }

    /// <summary>Begins the next volume (1-based numbering follows the calls).</summary>
    public void AddVolume(VolumeInfo v)
    {
        ArgumentNullException.ThrowIfNull(v);
        _volume++;
        string text = string.Join('\u001f', v.FileSystem, v.BlockSizeBytes, v.ClusterSizeBytes, v.PartitionOffsetBytes, v.SizeBytes,
            v.Label ?? "", v.Serial ?? "", v.Uuid ?? "", v.Partition?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "");
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        _volumes.Add(BinaryPrimitives.ReadUInt128LittleEndian(digest));
        Append("volume", digest);
    }

    /// <summary>Adds an entry of the current volume; returns its fingerprint.</summary>
    public UInt128 AddEntry(MapEntry e)
    {
        if (_volume == 0) throw new InvalidOperationException("AddVolume first");
        var fp = EntryFingerprint.Compute(e);
        // A path seen twice in one volume (should not happen) still changes the ID and keeps both in the digest.
        string key = ConfigurationState.Key(_volume, e.Path);
        _entries[key] = _entries.TryGetValue(key, out var prior) ? prior ^ fp ^ UInt128.One : fp;
        Span<byte> b = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128LittleEndian(b, fp);
        Append("entry", b);
        return fp;
    }

    public ConfigurationState Build()
    {
        if (_done) throw new InvalidOperationException("already built");
        _done = true;
        Span<byte> digest = stackalloc byte[32];
        _id.GetHashAndReset(digest);
        _id.Dispose();
        return new ConfigurationState("cfg1-" + Convert.ToHexStringLower(digest), _volumes, _entries);
    }

    void Append(string tag, ReadOnlySpan<byte> data)
    {
        Span<byte> n = stackalloc byte[8];
        _id.AppendData(Encoding.ASCII.GetBytes(tag));
        BinaryPrimitives.WriteInt64LittleEndian(n, data.Length);
        _id.AppendData(n);
        _id.AppendData(data);
    }
}
