using System.Net;
using System.Net.Sockets;

namespace Offhost.Iscsi.Tests.Integration;

/// <summary>
/// A TCP relay between the initiator and tgtd that misbehaves on purpose: it can cut the first connection after a
/// number of bytes from the target, or stall (keep the connection open but forward nothing more).
/// </summary>
public sealed class CuttingProxy : IDisposable
{
    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly int _targetPort;
    readonly CancellationTokenSource _stop = new();
    readonly List<Socket> _sockets = [];
    int _connections;

    public CuttingProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        _ = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    long _firstTotal;
    long _cutAt = long.MaxValue;

    /// <summary>Cut the first connection once this many bytes came from the target.</summary>
    public long CutFirstConnectionAfterBytes { get => Volatile.Read(ref _cutAt); set => Volatile.Write(ref _cutAt, value); }

    /// <summary>Cut the first connection after <paramref name="moreBytes"/> further bytes from the target.</summary>
    public void CutFirstConnectionAfterMore(long moreBytes) => CutFirstConnectionAfterBytes = Volatile.Read(ref _firstTotal) + moreBytes;

    /// <summary>Stop forwarding in both directions without closing anything.</summary>
    public volatile bool Stalled;

    /// <summary>Refuse (close at once) new connections.</summary>
    public volatile bool RefuseNew;

    public int Connections => Volatile.Read(ref _connections);

    async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptSocketAsync(_stop.Token);
                int index = Interlocked.Increment(ref _connections);
                if (RefuseNew) { client.Dispose(); continue; }
                var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp);
                await upstream.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
                lock (_sockets) { _sockets.Add(client); _sockets.Add(upstream); }
                _ = PumpAsync(client, upstream, first: false);
                _ = PumpAsync(upstream, client, first: index == 1);
            }
        }
        catch (OperationCanceledException) { }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
    }

    async Task PumpAsync(Socket from, Socket to, bool first)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        try
        {
            while (true)
            {
                int n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0) break;
                while (Stalled) await Task.Delay(50, _stop.Token);
                long limit = first ? CutFirstConnectionAfterBytes : long.MaxValue;
                if (total + n > limit)
                {
                    int part = (int)(limit - total);
                    if (part > 0) await to.SendAsync(buffer.AsMemory(0, part), SocketFlags.None, _stop.Token);
                    break;
                }
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
                total += n;
                if (first) Volatile.Write(ref _firstTotal, total);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
        finally
        {
            try { from.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
            try { to.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
            from.Dispose();
            to.Dispose();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_sockets) foreach (var s in _sockets) s.Dispose();
    }
}
