using Offhost.Core.Errors;

namespace Offhost.Formats.Ntfs;

/// <summary>
/// Decoder for the mapping-pairs array of a non-resident attribute. Each pair starts with a header byte whose low
/// nibble is the size in bytes of the run length and whose high nibble is the size of the signed LCN delta
/// (0 = sparse run); a header of 0 ends the array.
/// </summary>
internal static class Runlist
{
    const string S = "runlist";

    /// <summary>
    /// Appends the runs to <paramref name="output"/>, starting at <paramref name="startVcn"/>. Every allocated run must
    /// lie inside [0, <paramref name="totalClusters"/>). Returns the VCN after the last run.
    /// <paramref name="deviceOffset"/> is the absolute offset of <paramref name="pairs"/>, used in errors.
    /// </summary>
    public static long Decode(ReadOnlySpan<byte> pairs, long startVcn, long totalClusters, long deviceOffset, List<DataRun> output)
    {
        long vcn = startVcn;
        long lcn = 0;
        int pos = 0;
        while (true)
        {
            if (pos >= pairs.Length)
                CorruptStructure.Throw(S, deviceOffset + pos, "mapping pairs run past the end of the attribute without a terminator");
            byte header = pairs[pos];
            if (header == 0) return vcn;
            int lengthSize = header & 0x0F;
            int offsetSize = header >> 4;
            if (lengthSize == 0 || lengthSize > 8 || offsetSize > 8)
                CorruptStructure.Throw(S, deviceOffset + pos, $"run header 0x{header:X2} has invalid field sizes");
            if (pos + 1 + lengthSize + offsetSize > pairs.Length)
                CorruptStructure.Throw(S, deviceOffset + pos, $"run of {1 + lengthSize + offsetSize} bytes runs past the end of the attribute");

            long length = ReadSigned(pairs.Slice(pos + 1, lengthSize));
            if (length <= 0)
                CorruptStructure.Throw(S, deviceOffset + pos, $"run length {length} is not positive");
            if (vcn > long.MaxValue - length)
                CorruptStructure.Throw(S, deviceOffset + pos, "run VCN overflows");

            if (offsetSize == 0)
            {
                output.Add(new DataRun(vcn, length, -1));
            }
            else
            {
                long delta = ReadSigned(pairs.Slice(pos + 1 + lengthSize, offsetSize));
                long next = lcn + delta;
                // Overflow-safe range check: both lcn and delta are bounded by the sizes read.
                if ((delta > 0 && lcn > long.MaxValue - delta) || (delta < 0 && lcn < long.MinValue - delta)
                    || next < 0 || next >= totalClusters || length > totalClusters - next)
                    CorruptStructure.Throw(S, deviceOffset + pos,
                        $"run at LCN {next} of {length} clusters is outside the volume ({totalClusters} clusters)");
                lcn = next;
                output.Add(new DataRun(vcn, length, lcn));
            }
            vcn += length;
            pos += 1 + lengthSize + offsetSize;
        }
    }

    static long ReadSigned(ReadOnlySpan<byte> b)
    {
        long v = (sbyte)b[^1];
        for (int i = b.Length - 2; i >= 0; i--) v = (v << 8) | b[i];
        return v;
    }
}
