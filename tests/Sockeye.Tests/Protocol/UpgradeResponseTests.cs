using System.Text;
using Sockeye.Protocol;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Protocol;

public class UpgradeResponseTests
{
    private const string Valid101 =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + Http.SampleAccept + "\r\n";

    private static string? Validate(string extraFields, IReadOnlyList<string>? offered, out string? subprotocol, string head = Valid101) =>
        UpgradeResponse.Validate(Http.Response(head + extraFields + "\r\n"), Http.SampleKey, offered ?? [], out subprotocol);

    [Fact]
    public void Accepts_the_RFC_response()
    {
        Assert.Null(Validate(string.Empty, null, out string? subprotocol));
        Assert.Null(subprotocol);
    }

    [Fact]
    public void Accepts_tokens_in_any_case()
    {
        string head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: " + Http.SampleAccept + "\r\n";

        Assert.Null(Validate(string.Empty, null, out _, head));
    }

    [Fact]
    public void Fails_wrong_accept()
    {
        string head = Valid101.Replace(Http.SampleAccept, HandshakeKey.ComputeAccept("AAAAAAAAAAAAAAAAAAAAAA=="), StringComparison.Ordinal);

        Assert.NotNull(Validate(string.Empty, null, out _, head));
    }

    [Fact]
    public void Fails_missing_accept()
    {
        string head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";

        Assert.NotNull(Validate(string.Empty, null, out _, head));
    }

    [Fact]
    public void Fails_missing_Upgrade_header()
    {
        string head = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + Http.SampleAccept + "\r\n";

        Assert.NotNull(Validate(string.Empty, null, out _, head));
    }

    [Fact]
    public void Fails_missing_Connection_Upgrade()
    {
        string head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + Http.SampleAccept + "\r\n";

        Assert.NotNull(Validate(string.Empty, null, out _, head));
    }

    [Theory]
    [InlineData(200)]
    [InlineData(400)]
    [InlineData(426)]
    public void Fails_non_101_status(int status)
    {
        string head = Valid101.Replace("101 Switching Protocols", $"{status} Nope", StringComparison.Ordinal);

        string? problem = Validate(string.Empty, null, out _, head);

        Assert.NotNull(problem);
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Accepts_an_offered_subprotocol()
    {
        Assert.Null(Validate("Sec-WebSocket-Protocol: chat.v1\r\n", ["chat.v2", "chat.v1"], out string? subprotocol));
        Assert.Equal("chat.v1", subprotocol);
    }

    [Fact]
    public void Fails_unoffered_subprotocol()
    {
        Assert.NotNull(Validate("Sec-WebSocket-Protocol: chat.v3\r\n", ["chat.v2", "chat.v1"], out _));
    }

    [Fact]
    public void Fails_subprotocol_when_none_was_offered()
    {
        Assert.NotNull(Validate("Sec-WebSocket-Protocol: chat\r\n", [], out _));
    }

    [Fact]
    public void Fails_extension_that_was_not_offered()
    {
        Assert.NotNull(Validate("Sec-WebSocket-Extensions: permessage-deflate\r\n", null, out _));
    }

    [Fact]
    public void Returns_the_answer_for_an_offered_extension_to_check_its_own_parameters()
    {
        HttpHead response = Http.Response(Valid101 + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10\r\n\r\n");

        Assert.Null(UpgradeResponse.Validate(response, Http.SampleKey, [], ["permessage-deflate"], out _, out List<ExtensionOffer> extensions));

        ExtensionOffer answer = Assert.Single(extensions);
        Assert.Equal("permessage-deflate", answer.Name);
        Assert.Equal([new KeyValuePair<string, string?>("client_max_window_bits", "10")], answer.Parameters);
    }

    [Fact]
    public void Fails_an_extension_other_than_those_offered()
    {
        HttpHead response = Http.Response(Valid101 + "Sec-WebSocket-Extensions: permessage-deflate, x-webkit-other\r\n\r\n");

        string? problem = UpgradeResponse.Validate(response, Http.SampleKey, [], ["permessage-deflate"], out _, out _);

        Assert.Equal("server selected extension 'x-webkit-other', which was not offered", problem);
    }

    [Fact]
    public void BuildRequest_is_a_valid_upgrade_for_the_server()
    {
        byte[] request = UpgradeResponse.BuildRequest(new Uri("ws://example.com:8080/chat?x=1"), Http.SampleKey, ["a", "b"],
            [new("Origin", "http://example.com")]);

        HttpHead head = Http.Request(Encoding.ASCII.GetString(request));

        Assert.Equal(UpgradeKind.Valid, UpgradeRequest.Check(head).Kind);
        Assert.Equal("/chat?x=1", head.Target);
        Assert.Equal("example.com:8080", head.Get("Host"));
        Assert.Equal(Http.SampleKey, head.Get("Sec-WebSocket-Key"));
        Assert.Equal("13", head.Get("Sec-WebSocket-Version"));
        Assert.Equal("a, b", head.Get("Sec-WebSocket-Protocol"));
        Assert.Equal("http://example.com", head.Get("Origin"));
    }

    [Theory]
    [InlineData("ws://example.com/", "example.com")]
    [InlineData("ws://example.com:80/", "example.com")]
    [InlineData("ws://127.0.0.1:9/", "127.0.0.1:9")]
    [InlineData("ws://[::1]:9000/", "[::1]:9000")]
    public void BuildRequest_Host_omits_only_the_default_port(string uri, string host)
    {
        HttpHead head = Http.Request(Encoding.ASCII.GetString(UpgradeResponse.BuildRequest(new Uri(uri), Http.SampleKey, [])));

        Assert.Equal(host, head.Get("Host"));
        Assert.Null(head.Get("Sec-WebSocket-Protocol"));
    }
}
