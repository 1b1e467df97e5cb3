using Offhost.Core.Errors;
using Offhost.Iscsi.Initiator;

namespace Offhost.Iscsi.Tests.Codec;

public sealed class IscsiUriTests
{
    [Fact]
    public void Parses_all_parts()
    {
        var u = IscsiUri.Parse("iscsi://backup:pa%3Ass@san.example:3261/iqn.2024-01.com.example:disk1/2?digest=crc32c");
        Assert.Equal("san.example", u.Host);
        Assert.Equal(3261, u.Port);
        Assert.Equal("iqn.2024-01.com.example:disk1", u.TargetName);
        Assert.Equal(2, u.Lun);
        Assert.Equal("backup", u.UserName);
        Assert.Equal("pa:ss", u.InlineSecret);
        Assert.True(u.Digests);
        Assert.DoesNotContain("pa", u.ToString().Replace("iscsi://backup", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_and_ipv6()
    {
        var u = IscsiUri.Parse("iscsi://[fe80::1]/iqn.x:y/0");
        Assert.Equal("fe80::1", u.Host);
        Assert.Equal(3260, u.Port);
        Assert.Equal(0, u.Lun);
        Assert.Equal("iscsi://[fe80::1]/iqn.x:y/0", u.ToString());
        var portal = IscsiUri.Parse("iscsi://10.0.0.5");
        Assert.Null(portal.TargetName);
        Assert.Null(portal.Lun);
    }

    [Theory]
    [InlineData("http://host/iqn/1")]
    [InlineData("iscsi:///iqn/1")]
    [InlineData("iscsi://host:99999/iqn/1")]
    [InlineData("iscsi://host/iqn/x")]
    [InlineData("iscsi://host/iqn/1/extra")]
    [InlineData("iscsi://host/iqn/1?colour=red")]
    public void Bad_uris_are_user_errors(string text) => Assert.Throws<UserFacingException>(() => IscsiUri.Parse(text));

    [Fact]
    public void Errors_never_echo_an_inline_secret()
    {
        var e = Assert.Throws<UserFacingException>(() => IscsiUri.Parse("iscsi://me:TopSecret@host:0/iqn/1"));
        Assert.DoesNotContain("TopSecret", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Secrets_come_from_the_environment_or_a_file()
    {
        var env = new Dictionary<string, string> { [IscsiUri.SecretVariable] = "from-env", [IscsiUri.MutualSecretVariable] = "mutual-env" };
        var chap = IscsiUri.Parse("iscsi://me@host/iqn/1").ResolveCredentials(k => env.GetValueOrDefault(k))!;
        Assert.Equal("from-env"u8.ToArray(), chap.Secret);
        Assert.Equal("mutual-env"u8.ToArray(), chap.TargetSecret);
        Assert.DoesNotContain("from-env", chap.ToString(), StringComparison.Ordinal);

        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "from-file\n");
            var fromFile = IscsiUri.Parse($"iscsi://me@host/iqn/1?secret-file={file}").ResolveCredentials(_ => null)!;
            Assert.Equal("from-file"u8.ToArray(), fromFile.Secret);
            Assert.False(fromFile.IsMutual);
        }
        finally
        {
            File.Delete(file);
        }
        Assert.Throws<UserFacingException>(() => IscsiUri.Parse("iscsi://me@host/iqn/1").ResolveCredentials(_ => null));
        Assert.Null(IscsiUri.Parse("iscsi://host/iqn/1").ResolveCredentials(_ => "ignored"));
    }
}
