using System.Buffers;
using System.Text;
using Sockeye.Protocol;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Protocol;

public class HttpHeadParserTests
{
    private const string SampleRequest =
        "GET /chat?room=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Multi: a\r\nx-multi: b\r\nSec-WebSocket-Version: 13\r\n\r\n";

    private static HttpParseStatus ParseRequest(ReadOnlySequence<byte> buffer, out HttpHead? head, out SequencePosition consumed,
        out int errorStatus, int maxBytes = 16 * 1024, int maxFields = 100) =>
        HttpHeadParser.TryParseRequest(buffer, maxBytes, maxFields, out head, out consumed, out errorStatus, out _);

    private static HttpParseStatus ParseRequest(string text, out HttpHead? head, out int errorStatus, int maxBytes = 16 * 1024, int maxFields = 100) =>
        ParseRequest(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(text)), out head, out _, out errorStatus, maxBytes, maxFields);

    [Fact]
    public void Parses_a_request_head()
    {
        HttpParseStatus status = ParseRequest(SampleRequest, out HttpHead? head, out _);

        Assert.Equal(HttpParseStatus.Done, status);
        Assert.NotNull(head);
        Assert.Equal("GET", head.Method);
        Assert.Equal("/chat?room=1", head.Target);
        Assert.Equal(1, head.VersionMajor);
        Assert.Equal(1, head.VersionMinor);
        Assert.True(head.IsHttp11OrLater);
        Assert.Equal(7, head.Fields.Count);
        Assert.Equal(new KeyValuePair<string, string>("Host", "server.example.com"), head.Fields[0]);
        Assert.Equal("websocket", head.Get("UPGRADE"));
        Assert.Equal("a, b", head.Get("X-Multi"));
        Assert.Equal(2, head.Count("x-MULTI"));
        Assert.Null(head.Get("Missing"));
        Assert.True(head.HasToken("connection", "upgrade"));
    }

    [Fact]
    public void Consumes_exactly_the_head_and_leaves_what_follows()
    {
        byte[] bytes = Bytes.Concat(Encoding.ASCII.GetBytes(SampleRequest), Bytes.Hex("81 05 48 65 6c 6c 6f"));
        var buffer = new ReadOnlySequence<byte>(bytes);

        Assert.Equal(HttpParseStatus.Done, ParseRequest(buffer, out _, out SequencePosition consumed, out _));

        Assert.Equal(SampleRequest.Length, buffer.Slice(0, consumed).Length);
        Assert.Equal(Bytes.Hex("81 05 48 65 6c 6c 6f"), buffer.Slice(consumed).ToArray());
    }

    [Fact]
    public void Trims_optional_whitespace_around_field_values()
    {
        Assert.Equal(HttpParseStatus.Done, ParseRequest("GET / HTTP/1.1\r\nHost:   a.example \t\r\nEmpty:\r\n\r\n", out HttpHead? head, out _));

        Assert.Equal("a.example", head!.Get("Host"));
        Assert.Equal(string.Empty, head.Get("Empty"));
    }

    [Fact]
    public void Parses_a_response_head()
    {
        byte[] bytes = Encoding.ASCII.GetBytes(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");

        HttpParseStatus status = HttpHeadParser.TryParseResponse(new ReadOnlySequence<byte>(bytes), 16 * 1024, 100,
            out HttpHead? head, out SequencePosition consumed, out _);

        Assert.Equal(HttpParseStatus.Done, status);
        Assert.Equal(101, head!.StatusCode);
        Assert.Equal("Switching Protocols", head.ReasonPhrase);
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", head.Get("sec-websocket-accept"));
        Assert.Equal(bytes.Length, new ReadOnlySequence<byte>(bytes).Slice(0, consumed).Length);
    }

    [Theory]
    [InlineData("HTTP/1.1 404\r\n\r\n", 404, "")]
    [InlineData("HTTP/1.0 426 Upgrade Required\r\n\r\n", 426, "Upgrade Required")]
    public void Parses_response_status_lines(string text, int code, string reason)
    {
        HttpHead head = Http.Response(text);

        Assert.Equal(code, head.StatusCode);
        Assert.Equal(reason, head.ReasonPhrase);
    }

    [Theory]
    [InlineData("HTTP/1.1 1O1 Switching\r\n\r\n")]
    [InlineData("HTTP/1.1 101Switching\r\n\r\n")]
    [InlineData("HTTP/11 101 Switching\r\n\r\n")]
    [InlineData("ICY 200 OK\r\n\r\n")]
    public void Rejects_malformed_status_lines(string text)
    {
        HttpParseStatus status = HttpHeadParser.TryParseResponse(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text)), 16 * 1024, 100,
            out _, out _, out _);

        Assert.Equal(HttpParseStatus.Invalid, status);
    }

    [Fact]
    public void Request_split_at_every_byte_boundary_needs_more_data_until_complete()
    {
        byte[] bytes = Encoding.ASCII.GetBytes(SampleRequest);
        for (int n = 0; n < bytes.Length; n++)
        {
            var partial = new ReadOnlySequence<byte>(bytes, 0, n);
            Assert.Equal(HttpParseStatus.NeedMoreData, ParseRequest(partial, out HttpHead? head, out SequencePosition consumed, out _));
            Assert.Null(head);
            Assert.Equal(0, partial.Slice(0, consumed).Length); // nothing consumed
        }
    }

    [Fact]
    public void Request_in_two_segments_parses_the_same_at_every_split()
    {
        byte[] bytes = Encoding.ASCII.GetBytes(SampleRequest);
        for (int split = 1; split < bytes.Length; split++)
        {
            ReadOnlySequence<byte> buffer = Sequences.Split(bytes, split);

            Assert.Equal(HttpParseStatus.Done, ParseRequest(buffer, out HttpHead? head, out SequencePosition consumed, out _));
            Assert.Equal("/chat?room=1", head!.Target);
            Assert.Equal("dGhlIHNhbXBsZSBub25jZQ==", head.Get("Sec-WebSocket-Key"));
            Assert.Equal(7, head.Fields.Count);
            Assert.Equal(bytes.Length, buffer.Slice(0, consumed).Length);
        }
    }

    [Fact]
    public void Head_over_16_KiB_is_431_before_it_completes()
    {
        string big = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + new string('x', 16 * 1024);

        Assert.Equal(HttpParseStatus.Invalid, ParseRequest(big, out _, out int errorStatus));
        Assert.Equal(431, errorStatus);
    }

    [Fact]
    public void Complete_head_over_the_byte_limit_is_431()
    {
        string head = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + new string('x', 1000) + "\r\n\r\n";

        Assert.Equal(HttpParseStatus.Done, ParseRequest(head, out _, out _, maxBytes: head.Length));
        Assert.Equal(HttpParseStatus.Invalid, ParseRequest(head, out _, out int errorStatus, maxBytes: head.Length - 1));
        Assert.Equal(431, errorStatus);
    }

    private static string WithFields(int count, bool complete)
    {
        var sb = new StringBuilder("GET / HTTP/1.1\r\n");
        for (int i = 0; i < count; i++)
        {
            sb.Append("X-F").Append(i).Append(": v\r\n");
        }

        return complete ? sb.Append("\r\n").ToString() : sb.ToString();
    }

    [Fact]
    public void One_hundred_fields_are_accepted()
    {
        Assert.Equal(HttpParseStatus.Done, ParseRequest(WithFields(100, complete: true), out HttpHead? head, out _));
        Assert.Equal(100, head!.Fields.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void More_than_100_fields_is_431(bool complete)
    {
        Assert.Equal(HttpParseStatus.Invalid, ParseRequest(WithFields(101, complete), out _, out int errorStatus));
        Assert.Equal(431, errorStatus);
    }

    [Fact]
    public void Obs_fold_is_400()
    {
        string text = "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n";

        Assert.Equal(HttpParseStatus.Invalid, ParseRequest(text, out _, out int errorStatus));
        Assert.Equal(400, errorStatus);
    }

    [Theory]
    [InlineData("GET /\r\n\r\n")]
    [InlineData("GET / HTTP/1.1 extra\r\n\r\n")]
    [InlineData("GET  / HTTP/1.1\r\n\r\n")]
    [InlineData("GET / HTTX/1.1\r\n\r\n")]
    [InlineData("GET / HTTP/1\r\n\r\n")]
    [InlineData("GET chat HTTP/1.1\r\n\r\n")]
    [InlineData("G(T / HTTP/1.1\r\n\r\n")]
    [InlineData(" GET / HTTP/1.1\r\n\r\n")]
    [InlineData("GET /a\u007Fb HTTP/1.1\r\n\r\n")]
    [InlineData("\r\n\r\n")]
    public void Bad_request_line_is_400(string text)
    {
        Assert.Equal(HttpParseStatus.Invalid, ParseRequest(text, out _, out int errorStatus));
        Assert.Equal(400, errorStatus);
    }

    [Theory]
    [InlineData("Bad Name: x")]
    [InlineData(": no name")]
    [InlineData("NoColon")]
    [InlineData("Bad\"Name: x")]
    [InlineData("Nul: a\0b")]
    public void Malformed_header_field_is_400(string field)
    {
        Assert.Equal(HttpParseStatus.Invalid, ParseRequest($"GET / HTTP/1.1\r\nHost: a\r\n{field}\r\n\r\n", out _, out int errorStatus));
        Assert.Equal(400, errorStatus);
    }

    [Fact]
    public void Http_1_0_request_parses_as_not_1_1()
    {
        Assert.Equal(HttpParseStatus.Done, ParseRequest("GET / HTTP/1.0\r\n\r\n", out HttpHead? head, out _));

        Assert.False(head!.IsHttp11OrLater);
        Assert.Equal(0, head.VersionMinor);
    }
}
