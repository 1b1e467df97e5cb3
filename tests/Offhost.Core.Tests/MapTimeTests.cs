using Offhost.Core.Mapping;

namespace Offhost.Core.Tests;

public class MapTimeTests
{
    [Fact]
    public void FileTime_of_the_unix_epoch_is_second_zero()
    {
        var t = MapTime.FromFileTime(116_444_736_000_000_000);
        Assert.Equal(new MapTime(0, 0), t);
        Assert.Equal("1970-01-01T00:00:00Z", t.ToString());
    }

    [Fact]
    public void Fractions_print_without_trailing_zeros_and_parse_back()
    {
        var t = new MapTime(1_700_000_000, 123_400_000);
        Assert.Equal("2023-11-14T22:13:20.1234Z", t.ToString());
        Assert.Equal(t, MapTime.Parse(t.ToString()));
    }

    [Fact]
    public void Times_before_1970_keep_a_positive_fraction()
    {
        var t = MapTime.FromFileTime(116_444_736_000_000_000 - 5);   // 500 ns before the epoch
        Assert.Equal(new MapTime(-1, 999_999_500), t);
        Assert.Equal(116_444_736_000_000_000 - 5, t.ToFileTime());
    }

    [FsCheck.Xunit.Property(MaxTest = 2000)]
    public bool Utf8_formatting_matches_the_string_form(long seconds, int nanos)
    {
        var t = new MapTime(seconds % 253402300799, Math.Abs(nanos % 1_000_000_000));
        Span<byte> buffer = stackalloc byte[MapTime.MaxUtf8Bytes];
        int n = t.FormatUtf8(buffer);
        return System.Text.Encoding.UTF8.GetString(buffer[..n]) == t.ToString();
    }
}
