namespace Offhost.Formats.Ntfs;

/// <summary>One run of a non-resident attribute's runlist (mapping pairs), in clusters.
/// <see cref="Lcn"/> is -1 for a sparse run (no clusters allocated; reads as zeros).</summary>
internal readonly record struct DataRun(long Vcn, long LengthClusters, long Lcn)
{
    public bool IsSparse => Lcn < 0;
    public long EndVcn => Vcn + LengthClusters;
}
