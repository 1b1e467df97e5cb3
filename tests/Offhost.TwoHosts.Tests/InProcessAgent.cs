using System.Collections.Concurrent;
using System.Net;
using Offhost.Agent.FrozenImages;
using Offhost.Agent.Service;
using Offhost.Core.Mapping;
using Offhost.Server.Remote;
using Offhost.Testing;

namespace Offhost.TwoHosts.Tests;

/// <summary>An agent in this process on 127.0.0.1 (TLS, token), for tests that need exact control of when things change.</summary>
public sealed class InProcessAgent : IAsyncDisposable
{
    readonly AgentHost _host;

    InProcessAgent(AgentHost host, Pki pki, ConcurrentQueue<string> log)
    {
        _host = host;
        Pki = pki;
        LogLines = log;
    }

    public Pki Pki { get; }
    public ConcurrentQueue<string> LogLines { get; }
    public Uri Address => _host.Address;

    public static async Task<InProcessAgent> StartAsync(Scratch s, IReadOnlyList<string>? allowedTargets = null)
    {
        var pki = new Pki(s, "127.0.0.1");
        var log = new ConcurrentQueue<string>();
        var host = await AgentHost.StartAsync(new AgentOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            CertificatePath = pki.AgentCert,
            KeyPath = pki.AgentKey,
            Token = AgentToken.FromFile(pki.TokenFile),
            Quiesce = QuiesceOptions.Disabled,
            MaxFreeze = TimeSpan.FromMinutes(5),
            Log = log.Enqueue,
            AllowedTargets = allowedTargets ?? [],
        }, CancellationToken.None);
        return new InProcessAgent(host, pki, log);
    }

    public AgentConnection Connect(string? token = null, string? ca = null) => new(new AgentConnectionOptions
    {
        Address = Address,
        Token = token ?? Pki.Token,
        CaCertificatePath = ca ?? Pki.CaCert,
    });

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}

/// <summary>Reads a stream's bytes from a device exactly as the map says (the mover's view).</summary>
public static class MapRead
{
    public static byte[] Stream(string device, int blockSizeBytes, MapStream s)
    {
        if (s.ResidentData is ReadOnlyMemory<byte> resident) return resident.ToArray();
        var data = new byte[s.SizeBytes];
        using var f = new FileStream(device, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        foreach (var x in s.Extents)
        {
            if (x.Kind == ExtentKind.Zero) continue;
            Assert.Equal(ExtentKind.Data, x.Kind);
            f.Position = x.Lba * blockSizeBytes;
            f.ReadExactly(data, (int)x.OffsetBytes, (int)x.LengthBytes);
        }
        if (s.InitializedBytes < s.SizeBytes) Array.Clear(data, (int)s.InitializedBytes, (int)(s.SizeBytes - s.InitializedBytes));
        return data;
    }

    /// <summary>Asserts that every regular file in <paramref name="actual"/> reads, through the map, as its content.</summary>
    public static void AssertMapDescribes(string device, RemoteMap map, IReadOnlyDictionary<string, byte[]> actual)
    {
        var v = map.Volumes[0];
        var files = v.EntryList.Where(e => e.Kind == MapEntryKind.File).ToDictionary(e => e.Path);
        foreach (var (path, bytes) in actual)
        {
            Assert.True(files.TryGetValue(path, out var entry), $"{path} is missing from the map");
            var unnamed = entry!.Streams.Single(s => s.Name.Length == 0);
            Assert.True(bytes.AsSpan().SequenceEqual(Stream(device, v.Volume.BlockSizeBytes, unnamed)), $"{path}: the map's extents do not hold the file's bytes");
        }
        foreach (var path in files.Keys.Where(p => !p.StartsWith("/lost+found", StringComparison.Ordinal) && !p.StartsWith("/$", StringComparison.Ordinal)))
            Assert.True(actual.ContainsKey(path), $"{path} is in the map but not on the volume");
    }
}
