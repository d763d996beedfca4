using System.Text;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Server;

/// <summary>Refused upgrades over a raw socket: the status, then the connection closes without reading further.</summary>
public class HandshakeErrorTests
{
    private static Task<TestServer> Start() =>
        TestServer.StartAsync(s => s.Map("/chat", TestServer.Echo),
            o => o.StaticFiles = Sockeye.Server.StaticFiles.FromMemory(new Dictionary<string, byte[]> { ["/index.html"] = "PIPELINED WAS SERVED"u8.ToArray() }));

    /// <summary>Sends <paramref name="request"/> plus a pipelined request and frame; returns everything the server sent.</summary>
    private static async Task<string> SendAndReadAll(TestServer server, string request)
    {
        using RawHttp raw = await RawHttp.ConnectAsync(server.Port);
        byte[] pipelined = Bytes.Concat(
            Encoding.ASCII.GetBytes(request),
            Encoding.ASCII.GetBytes(Http.Upgrade("GET /chat HTTP/1.1")),
            RawFrame.Build(Sockeye.Protocol.Opcode.Text, "PIPELINED FRAME"),
            Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        await raw.SendAsync(pipelined);
        return Encoding.Latin1.GetString(await raw.ReadToEndAsync());
    }

    private static int CountResponses(string text) => text.Split("HTTP/1.1 ").Length - 1;

    [Fact]
    public async Task Version_12_is_refused_with_426_and_Sec_WebSocket_Version_13()
    {
        await using TestServer server = await Start();

        string text = await SendAndReadAll(server, Http.Upgrade(changes: ("Sec-WebSocket-Version", "12")));

        Assert.StartsWith("HTTP/1.1 426 Upgrade Required\r\n", text, StringComparison.Ordinal);
        Assert.Contains("\r\nSec-WebSocket-Version: 13\r\n", text, StringComparison.Ordinal);
        Assert.Equal(1, CountResponses(text));
        Assert.DoesNotContain("PIPELINED", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Sec-WebSocket-Key", null)]
    [InlineData("Sec-WebSocket-Key", "c2hvcnQ=")]
    [InlineData("Host", null)]
    [InlineData("Sec-WebSocket-Version", null)]
    [InlineData("Content-Length", "4")]
    public async Task Malformed_upgrade_is_refused_with_400_and_nothing_after_it_is_processed(string header, string? value)
    {
        await using TestServer server = await Start();

        string text = await SendAndReadAll(server, Http.Upgrade("GET /chat HTTP/1.1", (header, value)));

        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", text, StringComparison.Ordinal);
        Assert.Equal(1, CountResponses(text));
        Assert.DoesNotContain("101", text, StringComparison.Ordinal);
        Assert.DoesNotContain("PIPELINED", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task POST_upgrade_is_refused_with_405()
    {
        await using TestServer server = await Start();

        string text = await SendAndReadAll(server, Http.Upgrade("POST /chat HTTP/1.1"));

        Assert.StartsWith("HTTP/1.1 405 Method Not Allowed\r\n", text, StringComparison.Ordinal);
        Assert.Contains("\r\nAllow: GET\r\n", text, StringComparison.Ordinal);
        Assert.Equal(1, CountResponses(text));
        Assert.DoesNotContain("PIPELINED", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unmapped_path_is_refused_with_404_and_the_connection_closes()
    {
        await using TestServer server = await Start();

        string text = await SendAndReadAll(server, Http.Upgrade("GET /nowhere HTTP/1.1"));

        Assert.StartsWith("HTTP/1.1 404 ", text, StringComparison.Ordinal);
        Assert.Equal(1, CountResponses(text));
        Assert.DoesNotContain("PIPELINED", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_request_line_is_400()
    {
        await using TestServer server = await Start();

        string text = await SendAndReadAll(server, "GET /chat HTTP/1.1 junk\r\nHost: x\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 400 ", text, StringComparison.Ordinal);
        Assert.Equal(1, CountResponses(text));
    }

    [Fact]
    public async Task Oversized_request_head_is_431()
    {
        await using TestServer server = await Start();
        using RawHttp raw = await RawHttp.ConnectAsync(server.Port);

        await raw.SendAsync("GET /chat HTTP/1.1\r\nHost: x\r\nX-Big: " + new string('x', 17 * 1024) + "\r\n\r\n");
        string text = Encoding.Latin1.GetString(await raw.ReadToEndAsync());

        Assert.StartsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Slow_request_head_is_cut_off_after_the_handshake_timeout()
    {
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/chat", TestServer.Echo),
            o => o.HandshakeTimeout = TimeSpan.FromMilliseconds(300));
        using RawHttp raw = await RawHttp.ConnectAsync(server.Port);

        await raw.SendAsync("GET /chat HTTP/1.1\r\nHost: x\r\n"); // never finished

        Assert.Empty(await raw.ReadToEndAsync()); // closed without an answer, well within the read timeout
    }

    [Fact]
    public async Task Valid_upgrade_gets_the_RFC_101_and_frames_pipelined_behind_it_are_read()
    {
        await using TestServer server = await Start();
        using RawHttp raw = await RawHttp.ConnectAsync(server.Port);

        await raw.SendAsync(Bytes.Concat(Encoding.ASCII.GetBytes(Http.Upgrade("GET /chat HTTP/1.1")), Bytes.Hex("81 85 37 fa 21 3d 7f 9f 4d 51 58")));
        string head = await raw.ReadHeadAsync();

        Assert.Equal(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
            head);
        Assert.Equal(Bytes.Hex("81 05 48 65 6c 6c 6f"), await raw.ReadExactlyAsync(7));
    }
}
