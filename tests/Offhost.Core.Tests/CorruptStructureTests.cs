using Offhost.Core.Errors;

namespace Offhost.Core.Tests;

public class CorruptStructureTests
{
    [Fact]
    public void A_failed_check_formats_its_reason_as_the_interpolated_string_would()
    {
        ushort magic = 0xBEEF;
        long blocks = 123_456_789_012;
        string name = "dir";
        var e = Assert.Throws<CorruptStructureException>(() =>
            CorruptStructure.Check(magic == 0xF30A, "ext4_extent_header", 4096,
                $"bad magic 0x{magic:X4}, {blocks} blocks, [{name,5}|{name,-5}] {(int?)null} {1.5:F2}"));
        Assert.Equal($"bad magic 0x{magic:X4}, {blocks} blocks, [{name,5}|{name,-5}] {(int?)null} {1.5:F2}", e.Reason);
        Assert.Equal("ext4_extent_header", e.Structure);
        Assert.Equal(4096, e.DeviceOffset);
        Assert.Equal("ext4_extent_header at byte offset 4096: " + e.Reason, e.Message);
    }

    [Fact]
    public void A_passing_check_never_evaluates_the_interpolation_holes()
    {
        int evaluated = 0;
        int Count() => ++evaluated;
        CorruptStructure.Check(true, "x", 0, $"never {Count()}");
        Assert.Equal(0, evaluated);
        Assert.Throws<CorruptStructureException>(() => CorruptStructure.Check(false, "x", 0, $"once {Count()}"));
        Assert.Equal(1, evaluated);
    }
}
