using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;

namespace Sockeye.AspNetCore.Tests;

/// <summary>MapSockeye inside Kestrel, driven by .NET's ClientWebSocket over HTTP/1.1, h2c and HTTP/2 over TLS.</summary>
public sealed class MapSockeyeTests(KestrelApp app) : IClassFixture<KestrelApp>
{
    public static TheoryData<Wire> Wires => [Wire.Http11, Wire.H2c, Wire.H2Tls, Wire.Http11Tls];

    private static async Task<(WebSocketMessageType Type, byte[] Data)> ReceiveAsync(ClientWebSocket ws)
    {
        using var timeout = new CancellationTokenSource(KestrelApp.Timeout);
        using var data = new MemoryStream();
        byte[] buffer = new byte[64 * 1024];
        while (true)
        {
            WebSocketReceiveResult result = await ws.ReceiveAsync(buffer, timeout.Token);
            data.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return (result.MessageType, data.ToArray());
            }
        }
    }

    private static async Task<string> ReceiveTextAsync(ClientWebSocket ws)
    {
        (WebSocketMessageType type, byte[] data) = await ReceiveAsync(ws);
        Assert.Equal(WebSocketMessageType.Text, type);
        return Encoding.UTF8.GetString(data);
    }

    private static Task SendAsync(ClientWebSocket ws, WebSocketMessageType type, byte[] data) =>
        ws.SendAsync(data, type, endOfMessage: true, new CancellationTokenSource(KestrelApp.Timeout).Token);

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Echoes_text_binary_and_large_messages(Wire wire)
    {
        using ClientWebSocket ws = KestrelApp.Client(wire);
        await app.ConnectAsync(ws, wire, "/echo");
        Assert.Equal(wire is Wire.H2c or Wire.H2Tls ? HttpStatusCode.OK : HttpStatusCode.SwitchingProtocols, ws.HttpStatusCode);

        await SendAsync(ws, WebSocketMessageType.Text, Encoding.UTF8.GetBytes("héllo"));
        Assert.Equal("héllo", await ReceiveTextAsync(ws));
        byte[] binary = [0, 1, 2, 255];
        await SendAsync(ws, WebSocketMessageType.Binary, binary);
        (WebSocketMessageType binaryType, byte[] binaryEcho) = await ReceiveAsync(ws);
        Assert.Equal(WebSocketMessageType.Binary, binaryType);
        Assert.Equal(binary, binaryEcho);
        byte[] large = new byte[4 * 1024 * 1024];
        new Random(7).NextBytes(large);
        Task send = SendAsync(ws, WebSocketMessageType.Binary, large); // echoed while still being sent
        (WebSocketMessageType type, byte[] echoed) = await ReceiveAsync(ws);
        await send;
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.True(large.AsSpan().SequenceEqual(echoed));

        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", new CancellationTokenSource(KestrelApp.Timeout).Token);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, ws.CloseStatus);
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Permessage_deflate_is_negotiated_and_used(Wire wire)
    {
        using ClientWebSocket ws = KestrelApp.Client(wire, o => o.DangerousDeflateOptions = new WebSocketDeflateOptions());
        await app.ConnectAsync(ws, wire, "/deflate");

        Assert.Equal("extensions: permessage-deflate", await ReceiveTextAsync(ws));
        Assert.StartsWith("permessage-deflate", ws.HttpResponseHeaders!["Sec-WebSocket-Extensions"].Single(), StringComparison.Ordinal);
        string text = string.Concat(Enumerable.Repeat("compressible text ", 50_000));
        await SendAsync(ws, WebSocketMessageType.Text, Encoding.UTF8.GetBytes(text));
        Assert.Equal(text, await ReceiveTextAsync(ws));
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Close_code_and_reason_reach_the_client(Wire wire)
    {
        using ClientWebSocket ws = KestrelApp.Client(wire);
        await app.ConnectAsync(ws, wire, "/close");

        WebSocketReceiveResult result = await ws.ReceiveAsync(new byte[16], new CancellationTokenSource(KestrelApp.Timeout).Token);

        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal((WebSocketCloseStatus)4001, ws.CloseStatus);
        Assert.Equal("custom reason", ws.CloseStatusDescription);
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task The_subprotocol_is_chosen_from_the_offer(Wire wire)
    {
        using ClientWebSocket ws = KestrelApp.Client(wire, o =>
        {
            o.AddSubProtocol("other");
            o.AddSubProtocol("chat.v1");
        });
        await app.ConnectAsync(ws, wire, "/chat");

        Assert.Equal("chat.v1", ws.SubProtocol);
        Assert.Equal("subprotocol chat.v1", await ReceiveTextAsync(ws));
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task The_handler_sees_the_HTTP_version_and_the_user(Wire wire)
    {
        using ClientWebSocket ws = KestrelApp.Client(wire, o => o.SetRequestHeader("X-User", "ann"));
        await app.ConnectAsync(ws, wire, "/whoami");

        Assert.Equal(wire is Wire.H2c or Wire.H2Tls ? "HTTP/2 ann" : "HTTP/1.1 ann", await ReceiveTextAsync(ws));
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task A_handshake_hook_sees_the_HttpContext_and_decides_on_the_user(Wire wire)
    {
        using ClientWebSocket other = KestrelApp.Client(wire, o => o.SetRequestHeader("X-User", "bob"));
        await Assert.ThrowsAsync<WebSocketException>(() => app.ConnectAsync(other, wire, "/hooked"));
        Assert.Equal(HttpStatusCode.Forbidden, other.HttpStatusCode);

        using ClientWebSocket ann = KestrelApp.Client(wire, o => o.SetRequestHeader("X-User", "ann"));
        await app.ConnectAsync(ann, wire, "/hooked");
        Assert.Equal("state ann", await ReceiveTextAsync(ann));
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task RequireAuthorization_answers_401_to_the_anonymous_and_lets_users_in(Wire wire)
    {
        using ClientWebSocket anonymous = KestrelApp.Client(wire);
        await Assert.ThrowsAsync<WebSocketException>(() => app.ConnectAsync(anonymous, wire, "/secure"));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.HttpStatusCode);

        using ClientWebSocket user = KestrelApp.Client(wire, o => o.SetRequestHeader("X-User", "bob"));
        await app.ConnectAsync(user, wire, "/secure");
        Assert.Equal("user bob", await ReceiveTextAsync(user));
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task A_foreign_origin_is_refused_with_403_and_one_log_line(Wire wire)
    {
        string origin = $"http://evil-{wire}.example";
        using ClientWebSocket ws = KestrelApp.Client(wire, o => o.SetRequestHeader("Origin", origin));

        await Assert.ThrowsAsync<WebSocketException>(() => app.ConnectAsync(ws, wire, "/echo"));

        Assert.Equal(HttpStatusCode.Forbidden, ws.HttpStatusCode);
        Assert.Single(app.Logs, line => line.Contains($"origin {origin} refused", StringComparison.Ordinal) && line.StartsWith("Information", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task The_same_origin_is_accepted(Wire wire)
    {
        string scheme = wire is Wire.Http11 or Wire.H2c ? "http" : "https";
        int port = app.Uri(wire, "/").Port;
        using ClientWebSocket ws = KestrelApp.Client(wire, o => o.SetRequestHeader("Origin", $"{scheme}://127.0.0.1:{port}"));

        await app.ConnectAsync(ws, wire, "/echo");

        Assert.Equal(WebSocketState.Open, ws.State);
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task An_oversized_message_closes_with_1009(Wire wire)
    {
        using ClientWebSocket ws = KestrelApp.Client(wire);
        await app.ConnectAsync(ws, wire, "/small");

        await SendAsync(ws, WebSocketMessageType.Binary, new byte[2048]);
        WebSocketReceiveResult result = await ws.ReceiveAsync(new byte[16], new CancellationTokenSource(KestrelApp.Timeout).Token);

        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, ws.CloseStatus);
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task A_client_still_sending_an_oversized_message_gets_1009_and_its_send_ends(Wire wire)
    {
        // Over HTTP/2 the engine stops reading after 1009: unless the server keeps taking the stream's data until it
        // ends (RFC 8441 §6), the client's send waits for flow-control credit forever.
        using ClientWebSocket ws = KestrelApp.Client(wire);
        await app.ConnectAsync(ws, wire, "/small");
        Task send = SendAsync(ws, WebSocketMessageType.Binary, new byte[4 * 1024 * 1024]);

        WebSocketReceiveResult result = await ws.ReceiveAsync(new byte[16], new CancellationTokenSource(KestrelApp.Timeout).Token);
        Exception? sendError = await Record.ExceptionAsync(() => send.WaitAsync(KestrelApp.Timeout));

        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, ws.CloseStatus);
        Assert.False(sendError is TimeoutException or OperationCanceledException, $"the send did not end: {sendError}");
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task A_client_that_vanishes_releases_its_connection(Wire wire)
    {
        string id = $"vanish-{wire}";
        var ended = app.Ended.GetOrAdd(id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
        ClientWebSocket ws = KestrelApp.Client(wire);
        await app.ConnectAsync(ws, wire, "/echo?id=" + id);
        await SendAsync(ws, WebSocketMessageType.Text, "x"u8.ToArray());
        Assert.Equal("x", await ReceiveTextAsync(ws));

        ws.Abort(); // HTTP/1.1: the TCP connection is closed; HTTP/2: the stream is reset. No close frame either way.
        ws.Dispose();

        // The handler's receive ends and the connection is released with 1006 (no close frame received).
        Assert.Equal((ushort)1006, await ended.Task.WaitAsync(KestrelApp.Timeout));
    }

    [Fact]
    public async Task A_plain_GET_on_a_WebSocket_path_gets_400()
    {
        using var http = new HttpClient();
        HttpResponseMessage response = await http.GetAsync(new Uri($"http://127.0.0.1:{app.Http1Port}/echo"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("not a WebSocket upgrade request\n", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(null, HttpStatusCode.BadRequest, "missing Sec-WebSocket-Version header")]
    [InlineData("8", HttpStatusCode.UpgradeRequired, "unsupported WebSocket version")]
    public async Task A_bad_HTTP2_extended_CONNECT_gets_a_clear_status(string? version, HttpStatusCode status, string reason)
    {
        using var http = new HttpClient(new SocketsHttpHandler());
        using var request = new HttpRequestMessage(HttpMethod.Connect, new Uri($"http://127.0.0.1:{app.H2cPort}/echo"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Protocol = "websocket";
        if (version is not null)
        {
            request.Headers.Add("Sec-WebSocket-Version", version);
        }

        using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(reason + "\n", await response.Content.ReadAsStringAsync());
        if (status == HttpStatusCode.UpgradeRequired)
        {
            Assert.Equal("13", response.Headers.GetValues("Sec-WebSocket-Version").Single());
        }
    }

    [Fact]
    public async Task An_HTTP2_CONNECT_for_another_protocol_gets_400()
    {
        using var http = new HttpClient(new SocketsHttpHandler());
        using var request = new HttpRequestMessage(HttpMethod.Connect, new Uri($"http://127.0.0.1:{app.H2cPort}/echo"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Protocol = "webtransport";
        request.Headers.Add("Sec-WebSocket-Version", "13");

        using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Plain_topic_clients_over_HTTP11_and_HTTP2_share_their_path_topic()
    {
        // A plain client publishes each message to its path's topic and receives the topic, its own included: a
        // client's own message coming back proves it is subscribed.
        using ClientWebSocket h1 = KestrelApp.Client(Wire.Http11);
        await app.ConnectAsync(h1, Wire.Http11, "/live");
        await SendAsync(h1, WebSocketMessageType.Text, "h1 ready"u8.ToArray());
        Assert.Equal("h1 ready", await ReceiveTextAsync(h1));
        using ClientWebSocket h2 = KestrelApp.Client(Wire.H2Tls);
        await app.ConnectAsync(h2, Wire.H2Tls, "/live");
        await SendAsync(h2, WebSocketMessageType.Text, "h2 ready"u8.ToArray());
        Assert.Equal("h2 ready", await ReceiveTextAsync(h2));
        Assert.Equal("h2 ready", await ReceiveTextAsync(h1));

        await SendAsync(h1, WebSocketMessageType.Text, "from h1"u8.ToArray());

        Assert.Equal("from h1", await ReceiveTextAsync(h2));
        Assert.Equal("from h1", await ReceiveTextAsync(h1));
    }

    [Fact]
    public async Task Topics_are_served_with_the_sockeye_v1_subprotocol()
    {
        using ClientWebSocket ws = KestrelApp.Client(Wire.H2c, o => o.AddSubProtocol("sockeye.v1"));
        await app.ConnectAsync(ws, Wire.H2c, "/live");

        Assert.Equal("sockeye.v1", ws.SubProtocol);
    }
}
