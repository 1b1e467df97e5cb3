using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

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

    /// <summary>Throws unless <paramref name="condition"/> holds; an interpolated reason is formatted only when it does not
    /// (parsers check every field of every record, and formatting each message up front cost more than the parsing).</summary>
    public static void Check([DoesNotReturnIf(false)] bool condition, string structure, long deviceOffset,
        [InterpolatedStringHandlerArgument(nameof(condition))] ref CorruptReasonHandler reason)
    {
        if (!condition) Throw(structure, deviceOffset, reason.ToStringAndClear());
    }
}

/// <summary>The reason of a failed <see cref="CorruptStructure.Check(bool, string, long, ref CorruptReasonHandler)"/>:
/// the same text as the interpolated string, built only when the condition is false. While the condition holds the
/// handler is one null reference, so a check costs a compare: parsers run several per record, and a handler that
/// embedded <see cref="DefaultInterpolatedStringHandler"/> made every parsing method zero and copy hundreds of bytes
/// of stack per call.</summary>
[InterpolatedStringHandler]
public ref struct CorruptReasonHandler
{
    readonly StringBuilder? text;

    public CorruptReasonHandler(int literalLength, int formattedCount, bool condition, out bool shouldAppend)
    {
        shouldAppend = !condition;
        text = condition ? null : new StringBuilder(literalLength + 11 * formattedCount);
    }

    public void AppendLiteral(string value) => text?.Append(value);
    public void AppendFormatted<T>(T value) => AppendFormatted(value, 0, null);
    public void AppendFormatted<T>(T value, string? format) => AppendFormatted(value, 0, format);
    public void AppendFormatted<T>(T value, int alignment) => AppendFormatted(value, alignment, null);

    public void AppendFormatted<T>(T value, int alignment, string? format)
    {
        if (text is null) return;
        string s = value is IFormattable f ? f.ToString(format, CultureInfo.CurrentCulture) : value?.ToString() ?? "";
        text.Append(alignment >= 0 ? s.PadLeft(alignment) : s.PadRight(-alignment));
    }

    public void AppendFormatted(ReadOnlySpan<char> value) => text?.Append(value);
    public void AppendFormatted(string? value) => text?.Append(value);

    public readonly string ToStringAndClear() => text?.ToString() ?? "";
}
