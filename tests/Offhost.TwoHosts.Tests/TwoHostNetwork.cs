using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Offhost.Testing;

namespace Offhost.TwoHosts.Tests;

/// <summary>
/// Two hosts made of network namespaces joined by a veth pair: <see cref="App"/> (the application host, 10.a.b.1) and
/// <see cref="Backup"/> (the backup host, 10.a.b.2). Block devices are not namespaced, so both see the same loop devices,
/// as two hosts on a SAN see the same LUNs. Names are unique per instance; Dispose deletes both namespaces (and the veth).
/// </summary>
public sealed class TwoHostNetwork : IDisposable
{
    public TwoHostNetwork()
    {
        Requires.Root();
        Requires.Tool("ip");
        Requires.Tool("nsenter");
        string id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
        App = "ohapp-" + id;
        Backup = "ohbk-" + id;
        AppInterface = "oha" + id;
        BackupInterface = "ohb" + id;
        int a = 100 + Random.Shared.Next(100), b = Random.Shared.Next(64) * 4;
        AppIp = string.Create(CultureInfo.InvariantCulture, $"10.{a}.{b}.1");
        BackupIp = string.Create(CultureInfo.InvariantCulture, $"10.{a}.{b}.2");
        try
        {
            Tool.Run("ip", "netns", "add", App);
            Tool.Run("ip", "netns", "add", Backup);
            Tool.Run("ip", "link", "add", AppInterface, "type", "veth", "peer", "name", BackupInterface);
            Tool.Run("ip", "link", "set", AppInterface, "netns", App);
            Tool.Run("ip", "link", "set", BackupInterface, "netns", Backup);
            Tool.Run("ip", "-n", App, "addr", "add", AppIp + "/30", "dev", AppInterface);
            Tool.Run("ip", "-n", Backup, "addr", "add", BackupIp + "/30", "dev", BackupInterface);
            foreach (var (ns, dev) in new[] { (App, AppInterface), (Backup, BackupInterface) })
            {
                Tool.Run("ip", "-n", ns, "link", "set", dev, "up");
                Tool.Run("ip", "-n", ns, "link", "set", "lo", "up");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string App { get; }
    public string Backup { get; }
    public string AppInterface { get; }
    public string BackupInterface { get; }
    public string AppIp { get; }
    public string BackupIp { get; }

    /// <summary>Bytes sent plus received on the application host's veth, from its interface counters
    /// (/proc/net/dev as the namespace sees it).</summary>
    public long AppInterfaceBytes()
    {
        foreach (var line in Tool.Run("nsenter", $"--net=/var/run/netns/{App}", "cat", "/proc/net/dev").Split('\n'))
        {
            var parts = line.Split(':', 2);
            if (parts.Length != 2 || parts[0].Trim() != AppInterface) continue;
            var f = parts[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return long.Parse(f[0], CultureInfo.InvariantCulture) + long.Parse(f[8], CultureInfo.InvariantCulture);   // rx bytes + tx bytes
        }
        throw new InvalidOperationException($"{AppInterface} not found in namespace {App}");
    }

    /// <summary>Starts <paramref name="args"/> in network namespace <paramref name="ns"/>; output is captured. Only the
    /// network namespace is entered (nsenter --net, unlike ip netns exec, makes no copy of the mount table), so mounts
    /// of tests running alongside are never held by these processes.</summary>
    public static Process StartIn(string ns, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("nsenter") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { $"--net=/var/run/netns/{ns}" }.Concat(args)) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    /// <summary>Runs to completion in network namespace <paramref name="ns"/>.</summary>
    public static Tool.Result RunIn(string ns, params string[] args) =>
        Tool.TryRun("nsenter", [$"--net=/var/run/netns/{ns}", .. args], timeout: TimeSpan.FromMinutes(10));

    /// <summary>Opens TCP connections from the backup host's namespace (for clients in this process).</summary>
    public async ValueTask<Stream> ConnectFromBackupAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var socket = CreateSocketIn(Backup);
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    [DllImport("libc", SetLastError = true)]
#pragma warning disable CA5392, SYSLIB1054 // libc is the system library; an int-only signature needs no marshalling.
    static extern int setns(int fd, int nstype);
#pragma warning restore CA5392, SYSLIB1054

    const int CloneNewNet = 0x40000000;

    /// <summary>A socket belongs to the network namespace of the thread that creates it: a short-lived thread joins the
    /// namespace, creates the socket and ends.</summary>
    static Socket CreateSocketIn(string ns)
    {
        Socket? socket = null;
        Exception? error = null;
        var t = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/var/run/netns/{ns}", FileMode.Open, FileAccess.Read);
                if (setns((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                    throw new IOException($"setns {ns}: errno {Marshal.GetLastPInvokeError()}");
                socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            }
            catch (Exception e) { error = e; }
        });
        t.Start();
        t.Join();
        if (error is not null) throw new IOException($"cannot open a socket in namespace {ns}", error);
        return socket!;
    }

    public void Dispose()
    {
        Tool.TryRun("ip", ["netns", "del", App]);
        Tool.TryRun("ip", ["netns", "del", Backup]);
    }
}

/// <summary>The agent as its own process in the application host's namespace (<c>offhost agent</c>).</summary>
public sealed class AgentProcess : IDisposable
{
    readonly Process _process;
    readonly System.Text.StringBuilder _output = new();

    public AgentProcess(TwoHostNetwork net, Pki pki, int port)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "offhost.dll");
        _process = TwoHostNetwork.StartIn(net.App, ["dotnet", dll, "agent", "--listen", $"{net.AppIp}:{port}", "--cert", pki.AgentCert, "--key", pki.AgentKey,
            "--token-file", pki.TokenFile, "--quiesce-window", "0", "--max-freeze", "5m"]);
        var listening = new TaskCompletionSource();
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_output) _output.AppendLine(e.Data);
            if (e.Data.StartsWith("agent listening on", StringComparison.Ordinal)) listening.TrySetResult();
        };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (!listening.Task.Wait(TimeSpan.FromSeconds(90)))
        {
            Dispose();
            throw new InvalidOperationException("the agent did not start:\n" + Output);
        }
        Address = new Uri($"https://{net.AppIp}:{port}");
    }

    public Uri Address { get; }
    public string Output { get { lock (_output) return _output.ToString(); } }
    public int ProcessId => _process.Id;

    /// <summary>SIGKILL, as a crash or an OOM kill would: no release, no thaw by the agent itself.</summary>
    public void Kill()
    {
        Tool.TryRun("kill", ["-KILL", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        _process.WaitForExit(30_000);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Tool.TryRun("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            if (!_process.WaitForExit(30_000)) _process.Kill();
        }
        _process.Dispose();
    }
}
