using System.Buffers.Binary;
using System.Text;
using Offhost.Core.Errors;

namespace Offhost.Formats.Ntfs;

/// <summary>$FILE_NAME (0x30): parent directory reference, a copy of times and flags, and one name in one namespace.</summary>
internal readonly ref struct FileNameAttribute
{
    public const int NameOffset = 0x42;
    public const byte NamespacePosix = 0;
    public const byte NamespaceWin32 = 1;
    public const byte NamespaceDos = 2;
    public const byte NamespaceWin32AndDos = 3;

    public ulong ParentReference { get; init; }
    public uint FileAttributes { get; init; }
    public byte Namespace { get; init; }
    public ReadOnlySpan<byte> NameBytes { get; init; }

    public string NameString() => Encoding.Unicode.GetString(NameBytes);

    public static FileNameAttribute Read(ReadOnlySpan<byte> value, long deviceOffset)
    {
        const string S = "$FILE_NAME";
        if (value.Length < NameOffset) CorruptStructure.Truncated(S, deviceOffset, NameOffset, value.Length);
        int chars = value[0x40];
        byte ns = value[0x41];
        if (NameOffset + chars * 2 > value.Length) CorruptStructure.Truncated(S, deviceOffset, NameOffset + chars * 2, value.Length);
        if (chars == 0) CorruptStructure.Throw(S, deviceOffset + 0x40, "empty name");
        if (ns > NamespaceWin32AndDos) CorruptStructure.Throw(S, deviceOffset + 0x41, $"unknown namespace {ns}");
        return new FileNameAttribute
        {
            ParentReference = BinaryPrimitives.ReadUInt64LittleEndian(value),
            FileAttributes = BinaryPrimitives.ReadUInt32LittleEndian(value[0x38..]),
            Namespace = ns,
            NameBytes = value.Slice(NameOffset, chars * 2),
        };
    }
}
