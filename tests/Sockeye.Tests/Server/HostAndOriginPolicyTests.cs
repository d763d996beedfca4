using Sockeye.Server;

namespace Sockeye.Tests.Server;

public class HostAndOriginPolicyTests
{
    [Theory]
    [InlineData("localhost")]
    [InlineData("app.localhost")]
    [InlineData("127.0.0.1")]
    [InlineData("127.3.2.1")]
    [InlineData("::1")]
    public void A_loopback_listener_accepts_loopback_names(string host)
    {
        Assert.True(HostPolicy.IsAllowed(host, [], loopbackListener: true));
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("192.168.1.5")]
    [InlineData("")]
    public void A_loopback_listener_refuses_other_names_by_default(string host)
    {
        // DNS rebinding: evil.example resolves to 127.0.0.1, and its page sends Host: evil.example.
        Assert.False(HostPolicy.IsAllowed(host, [], loopbackListener: true));
    }

    [Fact]
    public void No_Host_at_all_is_not_a_browser_and_is_accepted()
    {
        Assert.True(HostPolicy.IsAllowed(null, [], loopbackListener: true));
    }

    [Theory]
    [InlineData("evil.example", "evil.example", true)]
    [InlineData("EVIL.example", "evil.example.", true)]
    [InlineData("::2", "[::2]", true)]
    [InlineData("other.example", "evil.example", false)]
    [InlineData("sub.evil.example", "evil.example", false)]
    [InlineData("anything.example", "*", true)]
    public void AllowedHosts_adds_names(string host, string entry, bool allowed)
    {
        Assert.Equal(allowed, HostPolicy.IsAllowed(host, [entry], loopbackListener: true));
    }

    [Fact]
    public void Other_listeners_accept_any_name_until_AllowedHosts_is_set()
    {
        Assert.True(HostPolicy.IsAllowed("server.lan", [], loopbackListener: false));
        Assert.False(HostPolicy.IsAllowed("server.lan", ["app.example"], loopbackListener: false));
        Assert.True(HostPolicy.IsAllowed("app.example", ["app.example"], loopbackListener: false));
        Assert.True(HostPolicy.IsAllowed("localhost", ["app.example"], loopbackListener: false));
    }

    [Theory]
    [InlineData("http://127.0.0.1:9876", "127.0.0.1:9876", false, true)]
    [InlineData("https://127.0.0.1:9876", "127.0.0.1:9876", false, false)] // an https page is not a plain port's origin
    [InlineData("https://127.0.0.1:9876", "127.0.0.1:9876", true, true)]
    [InlineData("http://127.0.0.1:9876", "127.0.0.1:9876", true, false)]
    [InlineData("http://example.com", "example.com:80", false, true)]     // default ports implied
    [InlineData("https://example.com", "example.com", true, true)]
    [InlineData("ws://127.0.0.1:9876", "127.0.0.1:9876", false, false)]
    [InlineData("null", "127.0.0.1:9876", false, false)]
    public void Same_origin_compares_scheme_host_and_port(string origin, string host, bool tls, bool allowed)
    {
        Assert.Equal(allowed, OriginPolicy.IsAllowed(origin, host, [], tls));
    }
}
