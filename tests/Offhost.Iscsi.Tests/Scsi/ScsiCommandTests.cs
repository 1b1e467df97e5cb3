using Offhost.Core.Errors;
using Offhost.Scsi.Commands;
using Offhost.Scsi.Sense;
using FsCheck.Xunit;

namespace Offhost.Iscsi.Tests.Scsi;

public sealed class ScsiCommandTests
{
    [Fact]
    public void Cdbs_have_the_standard_layouts()
    {
        Assert.Equal(new byte[] { 0x88, 0, 0, 0, 0, 1, 0x23, 0x45, 0x67, 0x89, 0, 0, 0x08, 0, 0, 0 }, Read16.Cdb(0x123456789, 2048));
        Assert.Equal(new byte[] { 0x8A, 0x08, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0 }, Write16.Cdb(5, 1, forceUnitAccess: true));
        Assert.Equal(new byte[] { 0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0 }, ReadCapacity16.Cdb());
        Assert.Equal(new byte[] { 0x12, 0x01, 0x83, 0x04, 0x00, 0 }, Inquiry.VpdCdb(0x83, 1024));
        Assert.Equal(new byte[] { 0xA0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0 }, ReportLuns.Cdb(4096));
        Assert.Equal(new byte[] { 0x08, 0x00, 0x01, 0x00, 0x00, 0 }, TapeRead6.Cdb(65536));
        Assert.Equal(new byte[] { 0x0A, 0x00, 0x00, 0x01, 0x00, 0 }, TapeWrite6.Cdb(256));
        Assert.Equal(new byte[] { 0x11, 0x01, 0xFF, 0xFF, 0xFE, 0 }, Space6.Cdb(Space6.Code.Filemarks, -2));
        Assert.Equal(new byte[] { 0x10, 0x00, 0x00, 0x00, 0x03, 0 }, WriteFilemarks6.Cdb(3));
        Assert.Equal(new byte[] { 0x1B, 0, 0, 0, 0x01, 0 }, LoadUnload.Cdb(load: true));
        Assert.Equal(new byte[] { 0x15, 0x10, 0, 0, 12, 0 }, ModeSelect6.Cdb(12));
        Assert.Equal(new byte[] { 0, 0, 0x10, 8, 0, 0, 0, 0, 0, 0, 0, 0 }, ModeSelect6.BlockDescriptorList(0, 0));
    }

    [Fact]
    public void Vpd_83_yields_the_naa_of_the_logical_unit()
    {
        byte[] page =
        [
            0x00, 0x83, 0x00, 0x24,
            0x02, 0x01, 0x00, 0x08, (byte)'I', (byte)'E', (byte)'T', 0x20, 0x20, 0x20, 0x20, 0x20,   // T10 vendor id (ASCII)
            0x01, 0x03, 0x00, 0x10, 0x60, 0x00, 0x0C, 0x29, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34, // NAA-6, LU
        ];
        var designators = DeviceIdentificationPage.Parse(page);
        Assert.Equal(2, designators.Count);
        Assert.Equal("60000c29000000000000000000001234", DeviceIdentificationPage.NaaOfLogicalUnit(designators));
        page[3] = 0x30;                                          // claims more than there is: truncated list
        Assert.Throws<CorruptStructureException>(() => DeviceIdentificationPage.Parse(page.Concat(new byte[] { 1, 3, 0, 0x20 }).ToArray()));
    }

    [Fact]
    public void Standard_inquiry_fields()
    {
        var data = new byte[36];
        data[0] = 0x01; data[1] = 0x80; data[2] = 0x05; data[4] = 31;
        "IET     VIRTUAL-TAPE    0001"u8.CopyTo(data.AsSpan(8));
        var inquiry = StandardInquiryData.Parse(data);
        Assert.Equal(PeripheralDeviceType.SequentialAccess, inquiry.DeviceType);
        Assert.True(inquiry.Removable);
        Assert.Equal("IET", inquiry.Vendor);
        Assert.Equal("VIRTUAL-TAPE", inquiry.Product);
        Assert.Equal("0001", inquiry.Revision);
    }

    [Fact]
    public void Read_capacity_16_and_report_luns()
    {
        byte[] capacity = [0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0x02, 0, 0, 3, 0, 0];
        var c = ReadCapacity16.Parse(capacity);
        Assert.Equal(65536, c.BlockCount);
        Assert.Equal(512, c.BlockLengthBytes);
        Assert.Equal(3, c.LogicalBlocksPerPhysicalExponent);
        byte[] luns = [0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x41, 0x00, 0, 0, 0, 0, 0, 0];
        Assert.Equal([0, 0x0100], ReportLuns.Parse(luns).Select(Lun.Decode));
    }

    [Property(MaxTest = 300)]
    public bool Lun_numbers_round_trip(ushort raw) => Lun.Decode(Lun.Encode(raw % 16384)) == raw % 16384;

    /// <summary>Every response parser over arbitrary bytes: a value or <see cref="CorruptStructureException"/>.</summary>
    [Property(MaxTest = 1000)]
    public void Arbitrary_responses_parse_or_are_reported_corrupt(byte[] data)
    {
        Try(() => StandardInquiryData.Parse(data));
        Try(() => DeviceIdentificationPage.Parse(data));
        Try(() => UnitSerialNumberPage.Parse(data));
        Try(() => SupportedVpdPages.Parse(data));
        Try(() => ReportLuns.Parse(data));
        Try(() => ReadCapacity16.Parse(data));
        Try(() => ReadBlockLimits.Parse(data));
        Try(() => ModeSense6.Parse(data));
        Try(() => SenseData.Read(data));
        if (data.Length > 1)
        {
            var page = (byte[])data.Clone();
            page[1] = 0x83;                                       // get past the page-code check
            Try(() => DeviceIdentificationPage.Parse(page));
        }
    }

    static void Try(Func<object> parse)
    {
        try { parse(); } catch (CorruptStructureException) { }
    }

    [Property(MaxTest = 300)]
    public void Fixed_sense_round_trips(byte key, byte asc, byte ascq, bool filemark, bool eom, bool ili, int? information)
    {
        var sense = new SenseData((SenseKey)(key & 0x0F), asc, ascq) { Filemark = filemark, EndOfMedium = eom, IncorrectLength = ili, Information = information };
        var back = SenseData.Read(sense.ToFixedBytes());
        Assert.Equal(sense, back);
    }

    [Fact]
    public void Tgt_tape_sense_is_decoded_as_the_tape_client_needs()
    {
        // READ(6) of a 65536-byte record with a 1000-byte request: NO SENSE + ILI, INFORMATION = 1000 - 65536.
        byte[] ili = [0xF0, 0, 0x20, 0xFF, 0xFF, 0x03, 0xE8 - 0x00, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ili.AsSpan(3), 1000 - 65536);
        var s = SenseData.Read(ili);
        Assert.True(s.IncorrectLength);
        Assert.Equal(1000 - 65536, s.Information);
        // End of data: BLANK CHECK with EOM, 00h/00h.
        var eod = SenseData.Read([0x70, 0, 0x48, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        Assert.Equal(SenseKey.BlankCheck, eod.Key);
        Assert.True(eod.EndOfMedium);
    }
}
