using FsCheck.Xunit;
using Offhost.Scsi.Identification;

namespace Offhost.Scsi.Tests.Identification;

public class NaaDesignatorTests
{
    [Fact]
    public void Derived_designators_are_NAA_6_and_deterministic()
    {
        var a = NaaDesignator.Naa6FromIdentity("/srv/images/disk0.img\0123\08:1");
        Assert.Equal(16, a.Length);
        Assert.Equal(6, a[0] >> 4);
        Assert.Equal(a, NaaDesignator.Naa6FromIdentity("/srv/images/disk0.img\0123\08:1"));
        Assert.NotEqual(a, NaaDesignator.Naa6FromIdentity("/srv/images/disk0.img\0124\08:1"));
        Assert.Equal(a, NaaDesignator.TryParse(NaaDesignator.ToDeviceId(a)));
    }

    [Fact]
    public void Parsing_accepts_only_16_byte_NAA_6_hex()
    {
        Assert.NotNull(NaaDesignator.TryParse("6001405AAAAAAAAAAAAAAAAAAAAAAAAA"));
        Assert.NotNull(NaaDesignator.TryParse(" naa.6001405aaaaaaaaaaaaaaaaaaaaaaaaa\n"));
        Assert.Null(NaaDesignator.TryParse("5001405AAAAAAAAAAAAAAAAAAAAAAAAA"));
        Assert.Null(NaaDesignator.TryParse("6001405AAAAAAAAA"));
        Assert.Null(NaaDesignator.TryParse("6001405AAAAAAAAAAAAAAAAAAAAAAAZZ"));
    }

    [Property(MaxTest = 1000)]
    public void Any_text_parses_to_a_designator_or_null(string? text)
    {
        var naa = NaaDesignator.TryParse(text ?? "");
        if (naa is not null) Assert.Equal(6, naa[0] >> 4);
    }
}
