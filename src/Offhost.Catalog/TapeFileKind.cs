namespace Offhost.Catalog;

/// <summary>What a tape file (the records between two filemarks) holds.</summary>
public enum TapeFileKind
{
    Label = 0,
    Archive = 1,
    Index = 2,
}
