using Sockeye.Protocol;

namespace Sockeye.Tests.Protocol;

public class HostHeaderTests
{
    [Theory]
    [InlineData("example.com", "example.com")]
    [InlineData("example.com:8080", "example.com")]
    [InlineData("127.0.0.1:9876", "127.0.0.1")]
    [InlineData("[::1]:9876", "::1")]
    [InlineData("[::1]", "::1")]
    [InlineData("localhost:", "localhost")] // port = *DIGIT may be empty (RFC 3986 §3.2.3)
    [InlineData("", "")]                    // RFC 9112 §3.2 allows an empty Host
    [InlineData("xn--bcher-kva.example", "xn--bcher-kva.example")]
    public void Valid_values_split_into_host_and_port(string value, string host)
    {
        Assert.True(HostHeader.TryParse(value, out string parsed));
        Assert.Equal(host, parsed);
    }

    [Theory]
    [InlineData("a b")]
    [InlineData("::1")]          // IPv6 needs brackets
    [InlineData("[::1")]
    [InlineData("[::1]x")]
    [InlineData("[127.0.0.1]")]  // brackets hold IPv6 only
    [InlineData("host:http")]
    [InlineData("host:123456")]
    [InlineData("user@host")]
    [InlineData("host/path")]
    [InlineData("h\u00e9.example")]
    public void Invalid_values_are_refused(string value)
    {
        Assert.False(HostHeader.TryParse(value, out _));
    }

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("LOCALHOST", true)]
    [InlineData("localhost.", true)]
    [InlineData("app.localhost", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.255.0.9", true)]
    [InlineData("::1", true)]
    [InlineData("evil.example", false)]
    [InlineData("localhost.evil.example", false)]
    [InlineData("evillocalhost", false)]
    [InlineData("127.0.0.1.evil.example", false)]
    [InlineData("128.0.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("", false)]
    public void Loopback_names_are_those_that_need_no_DNS(string host, bool loopback)
    {
        Assert.Equal(loopback, HostHeader.IsLoopbackName(host));
    }
}
