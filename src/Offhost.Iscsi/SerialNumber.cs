namespace Offhost.Iscsi;

/// <summary>32-bit serial number arithmetic (RFC 1982) for CmdSN, StatSN, DataSN and R2TSN.</summary>
public static class SerialNumber
{
    /// <summary>True when <paramref name="a"/> comes before <paramref name="b"/>.</summary>
    public static bool LessThan(uint a, uint b) => a != b && (int)(a - b) < 0;

    public static bool LessOrEqual(uint a, uint b) => a == b || LessThan(a, b);

    public static uint Max(uint a, uint b) => LessThan(a, b) ? b : a;
}
