using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Offhost.Testing;

/// <summary>
/// A private tgtd for one test class: its own iSCSI port on 127.0.0.1 and its own management socket
/// (tgtd -C N / tgtadm -C N), so test projects can run in parallel. Killed and cleaned up on Dispose.
/// </summary>
public sealed class TgtDaemon : IDisposable
{
    // tgtd accepts control ports up to 32767.
    static int s_next = Environment.ProcessId % 30000;

    readonly Process _process;
    readonly System.Text.StringBuilder _log = new();

    public string Log { get { lock (_log) return _log.ToString(); } }
    public Scratch Scratch { get; } = new("tgt");

    public TgtDaemon()
    {
        Requires.Root();
        Requires.Tool("tgtd");
        Requires.Tool("tgtadm");
        Port = FreePort();
        ControlPort = NextControlPort();
        var psi = new ProcessStartInfo("tgtd")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-f", "-C", ControlPort.ToString(), "--iscsi", $"portal=127.0.0.1:{Port}" }) psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start tgtd");
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            if (_process.HasExited)
            {
                _process.WaitForExit();
                throw new InvalidOperationException($"tgtd -C {ControlPort} on port {Port} exited with {_process.ExitCode} at start: {Log}");
            }
            var r = Tool.TryRun("tgtadm", ["-C", ControlPort.ToString(), "--lld", "iscsi", "--mode", "target", "--op", "show"], timeout: TimeSpan.FromSeconds(10));
            if (r.ExitCode == 0 && Listening()) break;
            if (DateTime.UtcNow > deadline) { Dispose(); throw new InvalidOperationException("tgtd did not come up in 15 s"); }
            Thread.Sleep(100);
        }
    }

    public int Port { get; }
    public int ControlPort { get; }
    public string Portal => $"127.0.0.1:{Port}";

    public void Admin(params string[] args)
    {
        var all = new List<string> { "-C", ControlPort.ToString(), "--lld", "iscsi" };
        all.AddRange(args);
        var r = Tool.TryRun("tgtadm", all, timeout: TimeSpan.FromSeconds(30));
        if (r.ExitCode != 0) throw new InvalidOperationException($"tgtadm {string.Join(' ', all)} failed: {r.Stderr}{r.Stdout}");
    }

    public string Show() =>
        Tool.RunChecked("tgtadm", ["-C", ControlPort.ToString(), "--lld", "iscsi", "--mode", "target", "--op", "show"], null);

    public void AddTarget(int tid, string iqn)
    {
        Admin("--mode", "target", "--op", "new", "--tid", tid.ToString(), "--targetname", iqn);
        Admin("--mode", "target", "--op", "bind", "--tid", tid.ToString(), "--initiator-address", "ALL");
    }

    /// <summary>A disk LUN backed by a new file of <paramref name="data"/>; returns the file path.</summary>
    public string AddDisk(int tid, int lun, byte[] data)
    {
        string path = Scratch[$"disk-{tid}-{lun}.img"];
        File.WriteAllBytes(path, data);
        Admin("--mode", "logicalunit", "--op", "new", "--tid", tid.ToString(), "--lun", lun.ToString(), "--backing-store", path);
        return path;
    }

    /// <summary>A disk LUN backed by an existing image file (a volume made by the real tools).</summary>
    public void AddDiskFile(int tid, int lun, string path) =>
        Admin("--mode", "logicalunit", "--op", "new", "--tid", tid.ToString(), "--lun", lun.ToString(), "--backing-store", path);

    /// <summary>A tape LUN on a fresh tgtimg cartridge of <paramref name="sizeMiB"/> MiB; returns the image path.</summary>
    public string AddTape(int tid, int lun, int sizeMiB, string barcode)
    {
        string path = Scratch[$"tape-{tid}-{lun}.img"];
        Tool.Run("tgtimg", "--op", "new", "--device-type", "tape", "--barcode", barcode, "--size", sizeMiB.ToString(), "--type", "data", "--file", path);
        Admin("--mode", "logicalunit", "--op", "new", "--tid", tid.ToString(), "--lun", lun.ToString(),
            "--device-type", "tape", "--bstype", "ssc", "--backing-store", path);
        return path;
    }

    public void AddAccount(int tid, string user, string password, bool outgoing = false)
    {
        Admin("--mode", "account", "--op", "new", "--user", user, "--password", password);
        var bind = new List<string> { "--mode", "account", "--op", "bind", "--tid", tid.ToString(), "--user", user };
        if (outgoing) bind.Add("--outgoing");
        Admin([.. bind]);
    }

    public bool IsRunning => !_process.HasExited;

    /// <summary>Kills tgtd at once (SIGKILL), as a crash would.</summary>
    public void Kill()
    {
        try { if (!_process.HasExited) _process.Kill(); } catch (InvalidOperationException) { }
        _process.WaitForExit(10_000);
    }

    bool Listening()
    {
        try
        {
            using var c = new TcpClient();
            c.Connect(IPAddress.Loopback, Port);
            return true;
        }
        catch (SocketException) { return false; }
    }

    static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    static int NextControlPort()
    {
        while (true)
        {
            int n = 2000 + Interlocked.Increment(ref s_next) % 30000;
            if (!File.Exists($"/var/run/tgtd/socket.{n}") && !File.Exists($"/var/run/tgtd/socket.{n}.lock")) return n;
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
        foreach (var f in new[] { $"/var/run/tgtd/socket.{ControlPort}", $"/var/run/tgtd/socket.{ControlPort}.lock" })
            try { File.Delete(f); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        Scratch.Dispose();
    }
}
