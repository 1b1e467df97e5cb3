using System.Buffers.Binary;
using Offhost.Scsi.ExtendedCopy;
using Offhost.Scsi.Sense;

namespace Offhost.Scsi.Tests.ExtendedCopy;

/// <summary>Each invalid field gives the exact sense key, ASC/ASCQ and field pointer of the reference's validation order (1.7).</summary>
public class ValidationOrderTests
{
    static readonly byte[] Naa = Convert.FromHexString("6001405A0B1C2D3E4F5061728394A5B6");

    static CscdDescriptor Disk() => IdentificationCscdDescriptor.ForNaa(Naa, 0, new BlockDeviceTypeParameters(false, 512));
    static SegmentDescriptor B2b() => new BlockToBlockSegment(0, 0, 8, 0, 100);

    static ExtendedCopyParameterList List(int cscds, int segments) =>
        new(1, Enumerable.Range(0, cscds).Select(_ => Disk()).ToList(), Enumerable.Range(0, segments).Select(_ => B2b()).ToList());

    static void AssertSense(ExtendedCopyException e, byte asc, byte ascq, int? pointer)
    {
        Assert.Equal(SenseKey.IllegalRequest, e.Sense.Key);
        Assert.Equal((asc, ascq), (e.Sense.Asc, e.Sense.Ascq));
        if (pointer is int p) Assert.Equal((false, p, (int?)null), (e.Sense.FieldPointer!.Value.InCdb, e.Sense.FieldPointer!.Value.ByteOffset, (int?)null));
        else Assert.Null(e.Sense.SenseKeySpecific);
    }

    static ExtendedCopyException Fails(byte[] bytes, OperatingParameters? limits = null) =>
        Assert.Throws<ExtendedCopyException>(() => ExtendedCopyParameterList.Read(bytes, limits));

    [Fact]
    public void List_shorter_than_the_header_is_parameter_list_length_error() =>
        AssertSense(Fails(new byte[15]), 0x1A, 0x00, null);

    [Fact]
    public void ParamHdr_case_1_list_cut_inside_the_CSCD_list_is_parameter_list_length_error()
    {
        var b = List(1, 1).ToBytes();
        AssertSense(Fails(b[..(16 + 32 - 1)]), 0x1A, 0x00, null);
    }

    [Fact]
    public void ParamHdr_case_2_list_cut_inside_the_segment_list_is_parameter_list_length_error()
    {
        var b = List(1, 1).ToBytes();
        AssertSense(Fails(b[..(16 + 32 + 28 - 1)]), 0x1A, 0x00, null);
    }

    [Fact]
    public void Descriptor_lists_longer_than_the_maximum_are_a_length_error_before_the_count_checks()
    {
        var limits = OperatingParameters.Default with { MaxCscdDescriptorCount = 2, MaxDescriptorListLengthBytes = 200 };
        var b = List(3, 5).ToBytes();                       // 96 + 140 > 200, and also 3 > 2 CSCDs
        AssertSense(Fails(b, limits), 0x1A, 0x00, null);
    }

    [Fact]
    public void Inline_data_longer_than_the_maximum_is_invalid_field_at_byte_12()
    {
        var b = (List(1, 1) with { InlineData = new byte[9] }).ToBytes();
        AssertSense(Fails(b, OperatingParameters.Default with { MaxInlineDataLengthBytes = 8 }), 0x26, 0x00, 12);
    }

    [Fact]
    public void DescrLimits_case_1_too_many_CSCD_descriptors()
    {
        var limits = OperatingParameters.Default;
        AssertSense(Fails(List(limits.MaxCscdDescriptorCount + 1, 1).ToBytes()), 0x26, 0x06, 2);
    }

    [Fact]
    public void DescrLimits_case_2_too_many_segment_descriptors()
    {
        var limits = OperatingParameters.Default;
        AssertSense(Fails(List(1, limits.MaxSegmentDescriptorCount + 1).ToBytes()), 0x26, 0x08, 8);
    }

    [Fact]
    public void DescrType_case_1_Fibre_Channel_CSCD_is_unsupported_target_descriptor_type()
    {
        var b = List(1, 1).ToBytes();
        b[16] = 0xE0;
        AssertSense(Fails(b), 0x26, 0x07, 16);
    }

    [Fact]
    public void DescrType_case_2_stream_to_stream_segment_is_unsupported_segment_descriptor_type()
    {
        var b = List(1, 1).ToBytes();
        b[48] = 0x03;
        b[50] = 0x00; b[51] = 0x10;
        AssertSense(Fails(b), 0x26, 0x09, 48);
    }

    [Fact]
    public void Wrong_descriptor_length_for_the_type_points_at_the_length_field()
    {
        var b = List(1, 1).ToBytes();
        b[51] = 0x14;
        AssertSense(Fails(b), 0x26, 0x00, 50);
    }

    [Fact]
    public void Segment_running_past_the_segment_list_points_at_its_length_field()
    {
        var b = List(1, 2).ToBytes();
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), 28 + 20);   // second descriptor cut short
        AssertSense(Fails(b), 0x26, 0x00, 16 + 32 + 28 + 2);
    }

    [Fact]
    public void CSCD_list_length_ending_inside_a_descriptor_is_invalid_field_at_byte_2()
    {
        var b = List(2, 1).ToBytes();
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), 40);
        AssertSense(Fails(b), 0x26, 0x00, 2);
    }

    [Fact]
    public void Designator_longer_than_20_bytes_points_at_the_designator_length()
    {
        var b = List(1, 1).ToBytes();
        b[16 + 7] = 21;
        AssertSense(Fails(b), 0x26, 0x00, 16 + 7);
    }

    [Fact]
    public void Reserved_list_id_usage_points_at_byte_1_bit_4()
    {
        var b = List(1, 1).ToBytes();
        b[1] = 0x08;
        var e = Fails(b);
        Assert.Equal((false, 1, (int?)4), e.Sense.FieldPointer);
    }

    [Fact]
    public void Embedded_data_count_larger_than_the_descriptor_is_invalid_field_at_byte_14()
    {
        var list = new ExtendedCopyParameterList(1, [Disk()], [new EmbeddedDataToStreamSegment(0, 0, new byte[5])]);
        var b = list.ToBytes();
        b[48 + 15] = 9;
        AssertSense(Fails(b), 0x26, 0x00, 48 + 14);
    }

    [Fact]
    public void Segment_types_left_out_of_the_implemented_list_are_refused()
    {
        var limits = OperatingParameters.Default with { ImplementedDescriptorTypeCodes = [0x02, 0xE4] };
        var list = new ExtendedCopyParameterList(1, [Disk()], [new WriteFilemarksSegment(0, 1)]);
        AssertSense(Fails(list.ToBytes(), limits), 0x26, 0x09, 48);
    }

    [Fact]
    public void Ignores_LU_ID_TYPE_and_NUL_of_identification_descriptors()
    {
        var b = List(1, 1).ToBytes();
        b[17] = 0x80 | 0x20;
        var list = ExtendedCopyParameterList.Read(b);
        var c = Assert.IsType<IdentificationCscdDescriptor>(list.CscdDescriptors[0]);
        Assert.Equal(2, c.LuIdType);
        Assert.True(c.Nul);
    }
}
