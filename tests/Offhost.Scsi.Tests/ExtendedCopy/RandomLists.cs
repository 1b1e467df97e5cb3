using Offhost.Scsi.ExtendedCopy;

namespace Offhost.Scsi.Tests.ExtendedCopy;

/// <summary>Deterministic random descriptors and lists for round-trip properties: every segment type, every CSCD shape.</summary>
internal static class RandomLists
{
    public static readonly byte[] SegmentTypes = DescriptorTypeCodes.DecodableSegmentTypes.ToArray();

    static ushort U16(Random r) => (ushort)r.Next(0, 65536);
    static int U24(Random r) => r.Next(0, 0x100_0000);
    static uint U32(Random r) => (uint)r.NextInt64(0, 1L << 32);
    static ulong U64(Random r) => (ulong)r.NextInt64() ^ ((ulong)r.Next() << 40);
    static bool B(Random r) => r.Next(2) == 1;

    public static SegmentDescriptor Segment(Random r, byte type) => type switch
    {
        0x00 or 0x0B => new BlockToStreamSegment(U16(r), U16(r), U24(r), U16(r), U64(r)) { Cat = B(r), Hold = type == 0x0B },
        0x01 or 0x0C => new StreamToBlockSegment(U16(r), U16(r), U24(r), U16(r), U64(r)) { Cat = B(r), Hold = type == 0x0C },
        0x02 or 0x0D => new BlockToBlockSegment(U16(r), U16(r), U16(r), U64(r), U64(r)) { Cat = B(r), Dc = B(r), Hold = type == 0x0D },
        0x04 => new InlineDataToStreamSegment(U16(r), U24(r), U32(r), U32(r)) { Cat = B(r) },
        0x05 => new EmbeddedDataToStreamSegment(U16(r), U24(r), RandomBytes(r, r.Next(0, 70))) { Cat = B(r) },
        0x06 or 0x0F => new StreamToDiscardSegment(U16(r), U24(r), U32(r)) { Cat = B(r), Hold = type == 0x0F },
        0x07 => new VerifyCscdSegment(U16(r), B(r)),
        0x08 => new BlockOffsetToStreamSegment(U16(r), U16(r), U24(r), U32(r), U64(r), U16(r)) { Cat = B(r) },
        0x09 => new StreamToBlockOffsetSegment(U16(r), U16(r), U24(r), U32(r), U64(r), U16(r)) { Cat = B(r) },
        0x0A => new BlockOffsetToBlockOffsetSegment(U16(r), U16(r), U32(r), U64(r), U64(r), U16(r), U16(r)) { Cat = B(r) },
        0x10 => new WriteFilemarksSegment(U16(r), U24(r)) { Wsmk = B(r) },
        0x11 => new SpaceSegment(U16(r), (byte)r.Next(0, 8), r.Next(SpaceSegment.MinCount, SpaceSegment.MaxCount + 1)),
        0x12 => new LocateSegment(U16(r), U32(r)),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public static byte[] RandomBytes(Random r, int n)
    {
        var b = new byte[n];
        r.NextBytes(b);
        return b;
    }

    public static CscdDescriptor Cscd(Random r)
    {
        switch (r.Next(6))
        {
            case 0:
                var raw = RandomBytes(r, 32);
                raw[0] = (byte)(0xE0 + r.Next(0, 4));             // E0h-E3h, opaque
                return new OpaqueCscdDescriptor(raw);
            case 1:
                var raw64 = RandomBytes(r, 64);
                raw64[0] = 0xEA;
                return new OpaqueCscdDescriptor(raw64);
            default:
                byte pdt = new byte[] { 0x00, 0x01, 0x03, 0x05, 0x0E, 0x08 }[r.Next(6)];
                DeviceTypeParameters p = pdt switch
                {
                    0x01 => new StreamDeviceTypeParameters(B(r), B(r), U24(r)),
                    0x03 => new ProcessorDeviceTypeParameters(B(r)),
                    0x08 => new ReservedDeviceTypeParameters(U32(r)),
                    _ => new BlockDeviceTypeParameters(B(r), U24(r)),
                };
                return new IdentificationCscdDescriptor((byte)r.Next(16), (byte)r.Next(4), (byte)r.Next(16),
                    RandomBytes(r, r.Next(0, 21)), pdt, p)
                { LuIdType = (byte)r.Next(4), Nul = B(r), RelativeInitiatorPortIdentifier = U16(r) };
        }
    }

    public static ExtendedCopyParameterList List(int seed)
    {
        var r = new Random(seed);
        var cscds = Enumerable.Range(0, r.Next(0, 6)).Select(_ => Cscd(r)).ToList();
        var segments = Enumerable.Range(0, r.Next(0, 12)).Select(_ => Segment(r, SegmentTypes[r.Next(SegmentTypes.Length)])).ToList();
        return new ExtendedCopyParameterList((byte)r.Next(256), cscds, segments)
        {
            Str = B(r),
            ListIdUsage = new[] { ListIdUsage.Hold, ListIdUsage.NoHold, ListIdUsage.NotUsed }[r.Next(3)],
            Priority = (byte)r.Next(8),
            InlineData = RandomBytes(r, r.Next(0, 40)),
        };
    }

    /// <summary>Operating parameters that implement every CSCD type, so opaque descriptors decode instead of being refused.</summary>
    public static OperatingParameters Everything { get; } = new()
    {
        ImplementedDescriptorTypeCodes = [.. SegmentTypes, .. Enumerable.Range(0xE0, 32).Select(i => (byte)i)],
    };
}
