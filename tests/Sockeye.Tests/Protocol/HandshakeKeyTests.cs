using Sockeye.Protocol;

namespace Sockeye.Tests.Protocol;

public class HandshakeKeyTests
{
    [Fact]
    public void ComputeAccept_matches_the_RFC_6455_section_1_3_example()
    {
        string accept = HandshakeKey.ComputeAccept("dGhlIHNhbXBsZSBub25jZQ==");

        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", accept);
    }

    [Fact]
    public void ComputeAccept_has_no_trailing_whitespace_or_line_break()
    {
        string accept = HandshakeKey.ComputeAccept("dGhlIHNhbXBsZSBub25jZQ==");

        Assert.Equal(28, accept.Length);
        Assert.Equal(accept.Trim(), accept);
        Assert.DoesNotContain('\r', accept);
        Assert.DoesNotContain('\n', accept);
    }

    [Theory]
    [InlineData("dGhlIHNhbXBsZSBub25jZQ==", true)]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA==", true)]
    [InlineData("dGhlIHNhbXBsZSBub25jZQ", false)] // unpadded
    [InlineData("dGhlIHNhbXBsZSBub25jZQ=", false)]
    [InlineData("dGhlIHNhbXBsZSBub25jZXg=", false)] // 17 bytes
    [InlineData("dGhlIHNhbXBsZSBub25j", false)] // 15 bytes
    [InlineData("!!!!!!!!!!!!!!!!!!!!!!==", false)] // not base64
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsValidKey_accepts_only_base64_of_16_bytes(string? key, bool expected)
    {
        Assert.Equal(expected, HandshakeKey.IsValidKey(key));
    }

    [Fact]
    public void NewKey_is_valid_and_random()
    {
        string a = HandshakeKey.NewKey();
        string b = HandshakeKey.NewKey();

        Assert.True(HandshakeKey.IsValidKey(a));
        Assert.True(HandshakeKey.IsValidKey(b));
        Assert.NotEqual(a, b);
    }
}
