using Offhost.Scsi.ExtendedCopy;
using Offhost.Scsi.Sense;

namespace Offhost.Scsi.Tests.ExtendedCopy;

public class ParameterListGoldenTests
{
    // 16-byte NAA-6 designator as libiscsi copies it from VPD 83h.
    static readonly byte[] Naa = Convert.FromHexString("6001405A0B1C2D3E4F5061728394A5B6");
    const ulong LuBlocks = 10_000;

    /// <summary>Reference Appendix A.1: libiscsi ExtendedCopy.Simple, 76 bytes.</summary>
    static byte[] AppendixA1()
    {
        var hex = "01100020000000000000001C00000000"
                + "E400000001030010" + Convert.ToHexString(Naa) + "00000000" + "00000200"
                + "0200001800000000000008000000000000000000" + (LuBlocks - 2048).ToString("X16");
        return Convert.FromHexString(hex);
    }

    [Fact]
    public void Appendix_A1_list_decodes_to_one_identification_CSCD_and_one_block_to_block_segment()
    {
        var bytes = AppendixA1();
        Assert.Equal(76, bytes.Length);
        var list = ExtendedCopyParameterList.Read(bytes);

        Assert.Equal(1, list.ListIdentifier);
        Assert.Equal(ListIdUsage.NoHold, list.ListIdUsage);
        Assert.Equal(0, list.Priority);
        var cscd = Assert.IsType<IdentificationCscdDescriptor>(Assert.Single(list.CscdDescriptors));
        Assert.Equal(1, cscd.CodeSet);
        Assert.Equal(3, cscd.DesignatorType);
        Assert.Equal(0, cscd.Association);
        Assert.Equal(Naa, cscd.Designator);
        Assert.Equal(new BlockDeviceTypeParameters(false, 512), cscd.Parameters);
        var seg = Assert.IsType<BlockToBlockSegment>(Assert.Single(list.SegmentDescriptors));
        Assert.Equal(new BlockToBlockSegment(0, 0, 2048, 0, LuBlocks - 2048), seg);
        Assert.Equal(0x30, list.SegmentOffset(0));
    }

    [Fact]
    public void Appendix_A1_list_built_from_the_model_is_byte_exact()
    {
        var list = new ExtendedCopyParameterList(1,
            [IdentificationCscdDescriptor.ForNaa(Naa, PeripheralDeviceType.DirectAccessBlock, new BlockDeviceTypeParameters(false, 512))],
            [new BlockToBlockSegment(0, 0, 2048, 0, LuBlocks - 2048)])
        { ListIdUsage = ListIdUsage.NoHold };
        Assert.Equal(AppendixA1(), list.ToBytes());
        Assert.Equal(AppendixA1(), ExtendedCopyParameterList.Read(AppendixA1()).ToBytes());
    }

    [Fact]
    public void Appendix_A1_CDB_carries_the_parameter_list_length_in_bytes_10_to_13()
    {
        var cdb = new ExtendedCopyCdb(76);
        Assert.Equal(Convert.FromHexString("83" + string.Concat(Enumerable.Repeat("00", 12)) + "4C" + "0000"), cdb.ToBytes());
        Assert.Equal(cdb, ExtendedCopyCdb.Read(cdb.ToBytes()));
    }

    [Fact]
    public void Appendix_A2_copy_aborted_sense_for_segment_0_is_the_LIO_bytes()
    {
        var e = ExtendedCopyException.CopyAborted(0x0D, 0x02, 0, "CSCD 0 is not reachable");
        Assert.Equal(Convert.FromHexString("70000A000000000A000000000D0200000000"), e.Sense.ToFixedBytes());
    }

    [Fact]
    public void Copy_aborted_sense_names_the_segment_in_command_specific_bytes_10_and_11()
    {
        var e = ExtendedCopyException.CopyAborted(0x0D, 0x02, 0x1234, "x");
        var b = e.Sense.ToFixedBytes();
        Assert.Equal(0x12, b[10]);
        Assert.Equal(0x34, b[11]);
        Assert.Equal(0x1234u, SenseData.Read(b).CommandSpecific);
    }

    [Fact]
    public void Appendix_A3_bad_segment_type_at_30h_gives_the_field_pointer_sense_bytes()
    {
        var bytes = AppendixA1();
        bytes[0x30] = 0x03;                                       // stream→stream: not supported
        bytes[0x32] = 0x00; bytes[0x33] = 0x18;
        var e = Assert.Throws<ExtendedCopyException>(() => ExtendedCopyParameterList.Read(bytes));
        Assert.Equal(Convert.FromHexString("700005000000000A00000000260900800030"), e.Sense.ToFixedBytes());
        Assert.Equal((false, 0x30, (int?)null), e.Sense.FieldPointer);
    }

    [Fact]
    public void Receive_copy_results_CDB_round_trips_and_rejects_LID4_service_actions()
    {
        var cdb = new ReceiveCopyResultsCdb(ReceiveCopyResultsServiceAction.OperatingParameters, 0, 1024);
        Assert.Equal(Convert.FromHexString("84030000000000000000000004000000"), cdb.ToBytes());
        Assert.Equal(cdb, ReceiveCopyResultsCdb.Read(cdb.ToBytes()));
        var lid4 = cdb.ToBytes();
        lid4[1] = 0x05;
        var e = Assert.Throws<ExtendedCopyException>(() => ReceiveCopyResultsCdb.Read(lid4));
        Assert.Equal((SenseKey.IllegalRequest, (byte)0x24, (byte)0x00), (e.Sense.Key, e.Sense.Asc, e.Sense.Ascq));
        Assert.Equal((true, 1, (int?)4), e.Sense.FieldPointer);
    }

    [Fact]
    public void LID4_service_action_in_the_EXTENDED_COPY_CDB_is_invalid_command_operation_code()
    {
        var cdb = new ExtendedCopyCdb(76).ToBytes();
        cdb[1] = 0x01;
        var e = Assert.Throws<ExtendedCopyException>(() => ExtendedCopyCdb.Read(cdb));
        Assert.Equal((SenseKey.IllegalRequest, (byte)0x20, (byte)0x00), (e.Sense.Key, e.Sense.Asc, e.Sense.Ascq));
    }

    [Fact]
    public void Operating_parameters_satisfy_the_libiscsi_descriptor_limit_inequalities()
    {
        var p = OperatingParameters.Default;
        Assert.True((p.MaxCscdDescriptorCount + 1) * 32 + 28 <= p.MaxDescriptorListLengthBytes);
        Assert.True(32 + (p.MaxSegmentDescriptorCount + 1) * 28 <= p.MaxDescriptorListLengthBytes);
        Assert.True(p.MaxSegmentLengthBytes >= 65535L * 4096 - 4096);
        var bytes = p.ToBytes();
        Assert.Equal(44 + p.ImplementedDescriptorTypeCodes.Length, bytes.Length);
        Assert.Equal((uint)(bytes.Length - 4), System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes));
        Assert.Equal(p, OperatingParameters.Read(bytes));
        Assert.True(p.ImplementedDescriptorTypeCodes.SequenceEqual(p.ImplementedDescriptorTypeCodes.Order()));
        Assert.DoesNotContain((byte)0x03, p.ImplementedDescriptorTypeCodes);
        Assert.DoesNotContain((byte)0xE0, p.ImplementedDescriptorTypeCodes);
    }

    [Fact]
    public void Copy_status_picks_the_finest_unit_that_fits_32_bits()
    {
        var s = CopyStatus.FromBytes(CopyManagerStatus.CompletedWithoutErrors, 3, 5L << 32);
        Assert.Equal(TransferCountUnits.Kibibytes, s.Units);
        Assert.Equal(5u << 22, s.TransferCount);
        var bytes = s.ToBytes();
        Assert.Equal(Convert.FromHexString("00000008" + "01" + "0003" + "01" + "01400000"), bytes);
        Assert.Equal(s, CopyStatus.Read(bytes));
    }

    [Fact]
    public void Failed_segment_details_carry_status_and_sense_after_60_bytes()
    {
        var sense = ExtendedCopyException.CopyAborted(0x0D, 0x02, 2, "x").Sense.ToFixedBytes();
        var d = new FailedSegmentDetails(FailedSegmentDetails.CheckConditionStatus, sense);
        var bytes = d.ToBytes();
        Assert.Equal(78, bytes.Length);
        Assert.Equal(74u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes));
        Assert.Equal(0x02, bytes[56]);
        Assert.Equal(18, bytes[59]);
        Assert.Equal(d, FailedSegmentDetails.Read(bytes));
        Assert.True(FailedSegmentDetails.Read(FailedSegmentDetails.None.ToBytes()).IsNone);
    }
}
