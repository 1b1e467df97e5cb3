using System.Globalization;

namespace Offhost.Catalog;

/// <summary>
/// Identifies a process across pid reuse and reboots: pid, start time (field 22 of /proc/&lt;pid&gt;/stat, clock
/// ticks since boot) and the kernel boot id. A backup is "running" only while its owner is alive.
/// </summary>
public readonly record struct ProcessIdentity(int Pid, long StartTicks, string BootId)
{
    public static ProcessIdentity Current() => Of(Environment.ProcessId) ?? new ProcessIdentity(Environment.ProcessId, 0, ReadBootId());

    /// <summary>The identity of a live process, or null when it does not exist (or /proc is not available).</summary>
    public static ProcessIdentity? Of(int pid)
    {
        long? start = ReadStartTicks(pid);
        return start is null ? null : new ProcessIdentity(pid, start.Value, ReadBootId());
    }

    /// <summary>True when this exact process (same boot, same pid, same start time) still exists.</summary>
    public bool IsAlive()
    {
        if (BootId != ReadBootId()) return false;
        long? start = ReadStartTicks(Pid);
        return start is not null && start.Value == StartTicks;
    }

    static string ReadBootId()
    {
        try { return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim(); }
        catch (IOException) { return ""; }
        catch (UnauthorizedAccessException) { return ""; }
    }

    static long? ReadStartTicks(int pid)
    {
        string text;
        try { text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat"); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        // The command name (field 2) is in parentheses and may hold spaces or ')': fields resume after the last ')'.
        int close = text.LastIndexOf(')');
        if (close < 0) return null;
        string[] rest = text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // rest[0] is field 3 (state), so field 22 is rest[19].
        return rest.Length > 19 && long.TryParse(rest[19], NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : null;
    }
}
