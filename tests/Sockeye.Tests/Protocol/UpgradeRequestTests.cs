using System.Text;
using Sockeye.Protocol;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Protocol;

public class UpgradeRequestTests
{
    private static UpgradeCheck Check(string requestLine = "GET /chat HTTP/1.1", params (string, string?)[] changes) =>
        UpgradeRequest.Check(Http.Request(Http.Upgrade(requestLine, changes)));

    [Fact]
    public void RFC_example_request_is_valid()
    {
        Assert.Equal(UpgradeKind.Valid, Check().Kind);
    }

    [Fact]
    public void Connection_keep_alive_comma_Upgrade_is_accepted()
    {
        // Firefox sends this.
        Assert.Equal(UpgradeKind.Valid, Check(changes: ("Connection", "keep-alive, Upgrade")).Kind);
    }

    [Fact]
    public void Tokens_compare_case_insensitively()
    {
        UpgradeCheck check = Check(changes: [("Connection", "UPGRADE"), ("Upgrade", "WebSocket")]);

        Assert.Equal(UpgradeKind.Valid, check.Kind);
    }

    [Fact]
    public void Version_12_is_426()
    {
        UpgradeCheck check = Check(changes: ("Sec-WebSocket-Version", "12"));

        Assert.Equal(UpgradeKind.Invalid, check.Kind);
        Assert.Equal(426, check.Status);
    }

    [Fact]
    public void Missing_version_is_400()
    {
        UpgradeCheck check = Check(changes: ("Sec-WebSocket-Version", null));

        Assert.Equal(UpgradeKind.Invalid, check.Kind);
        Assert.Equal(400, check.Status);
    }

    [Theory]
    [InlineData("dGhlIHNhbXBsZSBub25jZXg=")] // 17 bytes
    [InlineData("c2hvcnQ=")] // 5 bytes
    [InlineData("not base64 at all!!!!!!!")]
    public void Key_that_is_not_16_bytes_is_400(string key)
    {
        UpgradeCheck check = Check(changes: ("Sec-WebSocket-Key", key));

        Assert.Equal(UpgradeKind.Invalid, check.Kind);
        Assert.Equal(400, check.Status);
    }

    [Fact]
    public void Missing_key_with_upgrade_header_is_400()
    {
        UpgradeCheck check = Check(changes: ("Sec-WebSocket-Key", null));

        Assert.Equal(UpgradeKind.Invalid, check.Kind);
        Assert.Equal(400, check.Status);
    }

    [Fact]
    public void Repeated_key_is_400()
    {
        HttpHead head = Http.Request(Http.Upgrade().Replace("\r\n\r\n", "\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n", StringComparison.Ordinal));

        UpgradeCheck check = UpgradeRequest.Check(head);

        Assert.Equal(400, check.Status);
    }

    [Fact]
    public void POST_upgrade_is_405()
    {
        UpgradeCheck check = Check("POST /chat HTTP/1.1");

        Assert.Equal(UpgradeKind.Invalid, check.Kind);
        Assert.Equal(405, check.Status);
    }

    [Fact]
    public void HTTP_1_0_upgrade_is_400()
    {
        UpgradeCheck check = Check("GET /chat HTTP/1.0");

        Assert.Equal(UpgradeKind.Invalid, check.Kind);
        Assert.Equal(400, check.Status);
    }

    [Theory]
    [InlineData("GET /chat HTTP/2.0")]
    [InlineData("GET /chat HTTP/9.9")]
    [InlineData("GET /chat HTTP/0.9")]
    public void Only_HTTP_1_may_upgrade_other_major_versions_are_505(string requestLine)
    {
        UpgradeCheck check = Check(requestLine);

        Assert.Equal(UpgradeKind.Invalid, check.Kind);
        Assert.Equal(505, check.Status);
    }

    [Fact]
    public void HTTP_1_2_is_treated_as_1_1()
    {
        // RFC 9112 §2.3: a higher minor version of a major version we implement is processed as ours.
        Assert.Equal(UpgradeKind.Valid, Check("GET /chat HTTP/1.2").Kind);
    }

    [Theory]
    [InlineData("a b")]
    [InlineData("::1")]
    [InlineData("[::1")]
    [InlineData("host:80x")]
    [InlineData("host:123456")]
    [InlineData("[not-v6]:80")]
    public void Invalid_Host_value_is_400(string host)
    {
        UpgradeCheck check = Check(changes: ("Host", host));

        Assert.Equal(UpgradeKind.Invalid, check.Kind);
        Assert.Equal(400, check.Status);
    }

    [Fact]
    public void Missing_Host_is_400()
    {
        UpgradeCheck check = Check(changes: ("Host", null));

        Assert.Equal(UpgradeKind.Invalid, check.Kind);
        Assert.Equal(400, check.Status);
    }

    [Theory]
    [InlineData("Content-Length", "5")]
    [InlineData("Transfer-Encoding", "chunked")]
    public void Body_on_upgrade_is_400(string name, string value)
    {
        UpgradeCheck check = Check(changes: (name, value));

        Assert.Equal(UpgradeKind.Invalid, check.Kind);
        Assert.Equal(400, check.Status);
    }

    [Fact]
    public void Content_Length_0_is_not_a_body()
    {
        Assert.Equal(UpgradeKind.Valid, Check(changes: ("Content-Length", "0")).Kind);
    }

    [Fact]
    public void Missing_Connection_Upgrade_is_400()
    {
        UpgradeCheck check = Check(changes: ("Connection", "keep-alive"));

        Assert.Equal(UpgradeKind.Invalid, check.Kind);
        Assert.Equal(400, check.Status);
    }

    [Fact]
    public void Plain_GET_is_not_an_upgrade()
    {
        UpgradeCheck check = UpgradeRequest.Check(Http.Request("GET /index.html HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n"));

        Assert.Equal(UpgradeKind.NotUpgrade, check.Kind);
    }

    [Fact]
    public void Upgrade_to_another_protocol_is_not_a_WebSocket_upgrade()
    {
        UpgradeCheck check = UpgradeRequest.Check(Http.Request("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"));

        Assert.Equal(UpgradeKind.NotUpgrade, check.Kind);
    }

    [Fact]
    public void OfferedSubprotocols_are_split_in_client_order()
    {
        HttpHead head = Http.Request(Http.Upgrade(changes: ("Sec-WebSocket-Protocol", "chat.v2, chat.v1,,  superchat ")));

        Assert.Equal(["chat.v2", "chat.v1", "superchat"], UpgradeRequest.OfferedSubprotocols(head));
    }

    [Fact]
    public void BuildAcceptResponse_is_the_RFC_101_byte_for_byte()
    {
        byte[] response = UpgradeRequest.BuildAcceptResponse(Http.Request(Http.Upgrade()), subprotocol: null);

        Assert.Equal(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
            Encoding.ASCII.GetString(response));
    }

    [Fact]
    public void BuildAcceptResponse_names_the_chosen_subprotocol()
    {
        byte[] response = UpgradeRequest.BuildAcceptResponse(Http.Request(Http.Upgrade()), subprotocol: "chat");

        HttpHead head = Http.Response(Encoding.ASCII.GetString(response));
        Assert.Equal("chat", head.Get("Sec-WebSocket-Protocol"));
    }

    [Fact]
    public void BuildErrorResponse_426_carries_the_supported_version()
    {
        string text = Encoding.UTF8.GetString(UpgradeRequest.BuildErrorResponse(426, "unsupported WebSocket version"));

        HttpHead head = Http.Response(text[..(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)]);
        Assert.StartsWith("HTTP/1.1 426 Upgrade Required\r\n", text, StringComparison.Ordinal);
        Assert.Contains("\r\nSec-WebSocket-Version: 13\r\n", text, StringComparison.Ordinal);
        Assert.Equal("13", head.Get("Sec-WebSocket-Version"));
        Assert.Equal("close", head.Get("Connection"));
    }

    [Theory]
    [InlineData(400, "Bad Request")]
    [InlineData(404, "Not Found")]
    [InlineData(405, "Method Not Allowed")]
    [InlineData(421, "Misdirected Request")]
    [InlineData(431, "Request Header Fields Too Large")]
    [InlineData(505, "HTTP Version Not Supported")]
    public void BuildErrorResponse_has_status_length_and_closes(int status, string phrase)
    {
        string text = Encoding.UTF8.GetString(UpgradeRequest.BuildErrorResponse(status, "why"));
        int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;

        HttpHead head = Http.Response(text[..end]);

        Assert.Equal(status, head.StatusCode);
        Assert.Equal(phrase, head.ReasonPhrase);
        Assert.Equal(Encoding.UTF8.GetByteCount(text[end..]).ToString(System.Globalization.CultureInfo.InvariantCulture), head.Get("Content-Length"));
        Assert.Equal("close", head.Get("Connection"));
        Assert.Equal("why\n", text[end..]);
    }

    [Fact]
    public void BuildErrorResponse_405_names_the_allowed_method()
    {
        string text = Encoding.UTF8.GetString(UpgradeRequest.BuildErrorResponse(405, "GET only"));

        Assert.Contains("\r\nAllow: GET\r\n", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(101, "Switching Protocols")]
    [InlineData(200, "OK")]
    [InlineData(206, "Partial Content")]
    [InlineData(304, "Not Modified")]
    [InlineData(403, "Forbidden")]
    [InlineData(416, "Range Not Satisfiable")]
    [InlineData(426, "Upgrade Required")]
    [InlineData(503, "Service Unavailable")]
    [InlineData(499, "")]
    public void Reason_phrases_are_spelled_as_in_RFC_9110(int status, string phrase)
    {
        // Not derived from enum names: HttpStatusCode.OK once came out as "O K".
        Assert.Equal(phrase, UpgradeRequest.ReasonPhrase(status));
    }
}
