namespace Offhost.Formats.Ntfs;

/// <summary>One $DATA attribute record (or one VCN range of it when an $ATTRIBUTE_LIST splits it), copied out of its FILE record.</summary>
internal sealed class DataAttributePiece
{
    public required string Name { get; init; }
    public byte[]? ResidentValue { get; init; }
    public long LowestVcn { get; init; }
    public long HighestVcn { get; init; }
    public List<DataRun> Runs { get; init; } = [];
    public ushort Flags { get; init; }
    public int CompressionUnitLog2 { get; init; }
    public long AllocatedSizeBytes { get; init; }
    public long DataSizeBytes { get; init; }
    public long InitializedSizeBytes { get; init; }
    /// <summary>Absolute device offset of the attribute header, for errors.</summary>
    public long DeviceOffset { get; init; }
}
