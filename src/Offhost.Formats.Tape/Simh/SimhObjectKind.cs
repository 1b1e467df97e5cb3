namespace Offhost.Formats.Tape.Simh;

/// <summary>What a 32-bit SIMH length word at a given position of a .tap image introduces.</summary>
public enum SimhObjectKind
{
    /// <summary>A data record: length word, data, pad byte if odd, length word again.</summary>
    Record,
    /// <summary>00000000h: a tape mark (filemark).</summary>
    TapeMark,
    /// <summary>FFFFFFFEh: erase gap, skipped by readers.</summary>
    EraseGap,
    /// <summary>FFFFFFFFh or the physical end of the image: nothing recorded past here.</summary>
    EndOfMedium,
    /// <summary>FFFEFFFFh: half-gap written by later SIMH versions; 2 bytes, skipped by readers.</summary>
    HalfGap,
}
