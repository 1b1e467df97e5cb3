using System.Diagnostics.CodeAnalysis;

namespace Offhost.Core.Errors;

/// <summary>
/// An on-disk or on-wire structure is damaged or not what the specification allows. Always names the
/// structure and its absolute byte offset on the device, so an operator can find the bad sector.
/// </summary>
public class CorruptStructureException : IOException
{
    public CorruptStructureException(string structure, long deviceOffset, string reason)
        : base($"{structure} at byte offset {deviceOffset}: {reason}")
    {
        Structure = structure;
        DeviceOffset = deviceOffset;
        Reason = reason;
    }

    public CorruptStructureException(string structure, long deviceOffset, string reason, Exception inner)
        : base($"{structure} at byte offset {deviceOffset}: {reason}", inner)
    {
        Structure = structure;
        DeviceOffset = deviceOffset;
        Reason = reason;
    }

    /// <summary>The specification's name for the structure, e.g. <c>FILE record 42</c> or <c>ext4_extent_header</c>.</summary>
    public string Structure { get; }

    /// <summary>Absolute byte offset of the structure on the device (partition offset already applied); -1 if unknown.</summary>
    public long DeviceOffset { get; }

    public string Reason { get; }
}

/// <summary>Throw helpers, kept out of line so parsing methods stay small.</summary>
public static class CorruptStructure
{
    [DoesNotReturn]
    public static void Throw(string structure, long deviceOffset, string reason) =>
        throw new CorruptStructureException(structure, deviceOffset, reason);

    [DoesNotReturn]
    public static T Throw<T>(string structure, long deviceOffset, string reason) =>
        throw new CorruptStructureException(structure, deviceOffset, reason);

    [DoesNotReturn]
    public static void Truncated(string structure, long deviceOffset, long needBytes, long haveBytes) =>
        throw new CorruptStructureException(structure, deviceOffset, $"truncated: needs {needBytes} bytes, only {haveBytes} available");

    /// <summary>Throws unless <paramref name="condition"/> holds.</summary>
    public static void Check([DoesNotReturnIf(false)] bool condition, string structure, long deviceOffset, string reason)
    {
        if (!condition) Throw(structure, deviceOffset, reason);
    }
}
