using Offhost.Core.Devices;
using Offhost.Scsi.ExtendedCopy;

namespace Offhost.DataMover.Tests;

/// <summary>A registry with devices registered under NAA-6 designators for one requester, and list-building helpers.</summary>
internal sealed class Rig
{
    public const string Requester = "iqn.2026-11.test:job-1";
    public DeviceRegistry Registry { get; } = new();
    public List<CscdDescriptor> Cscds { get; } = [];

    public static byte[] Naa(int n)
    {
        var b = new byte[16];
        b[0] = 0x60;
        b[1] = 0x01;
        b[2] = 0x40;
        b[15] = (byte)n;
        b[14] = (byte)(n >> 8);
        return b;
    }

    /// <summary>Registers a block device; returns its CSCD index.</summary>
    public ushort Block(IBlockDevice d, bool pad = false)
    {
        var naa = Naa(Cscds.Count + 1);
        Registry.Register(Requester, naa, d);
        Cscds.Add(IdentificationCscdDescriptor.ForNaa(naa, PeripheralDeviceType.DirectAccessBlock, new BlockDeviceTypeParameters(pad, d.BlockSizeBytes)));
        return (ushort)(Cscds.Count - 1);
    }

    public ushort Tape(IStreamDevice d, bool pad = false)
    {
        var naa = Naa(Cscds.Count + 1);
        Registry.Register(Requester, naa, d);
        Cscds.Add(IdentificationCscdDescriptor.ForNaa(naa, PeripheralDeviceType.SequentialAccess, new StreamDeviceTypeParameters(pad, false, 0)));
        return (ushort)(Cscds.Count - 1);
    }

    public CopyManager Manager(CopyManagerOptions? options = null) => new(Registry, Requester, options);

    public ExtendedCopyParameterList List(IEnumerable<SegmentDescriptor> segments, byte listId = 1, ListIdUsage usage = ListIdUsage.Hold, byte[]? inline = null) =>
        new(listId, Cscds.ToList(), segments.ToList()) { ListIdUsage = usage, InlineData = inline ?? [] };

    /// <summary>Block→stream segments covering <paramref name="blocks"/> blocks from LBA 0 in pieces of at most <paramref name="perSegment"/>.</summary>
    public static IEnumerable<SegmentDescriptor> Backup(ushort src, ushort dst, long blocks, int perSegment, int recordBytes, bool cat = true)
    {
        for (long lba = 0; lba < blocks; lba += perSegment)
        {
            var n = (ushort)Math.Min(perSegment, blocks - lba);
            bool last = lba + n >= blocks;
            yield return new BlockToStreamSegment(src, dst, recordBytes, n, (ulong)lba) { Cat = cat && !last };
        }
    }

    public static IEnumerable<SegmentDescriptor> Restore(ushort src, ushort dst, long blocks, int perSegment, int recordBytes, bool cat = true)
    {
        for (long lba = 0; lba < blocks; lba += perSegment)
        {
            var n = (ushort)Math.Min(perSegment, blocks - lba);
            bool last = lba + n >= blocks;
            yield return new StreamToBlockSegment(src, dst, recordBytes, n, (ulong)lba) { Cat = cat && !last };
        }
    }
}
