using System.Net;
using System.Net.Sockets;
using System.Text;
using Sockeye.Client;
using Sockeye.Protocol;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Client;

/// <summary>The client against a scripted raw-TCP server that answers the handshake however a test says.</summary>
public sealed class ClientHandshakeTests : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TestServer.Timeout;
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly TaskCompletionSource<HttpHead> _request = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Socket? _accepted;

    public ClientHandshakeTests() => _listener.Start();

    private Uri Uri(string path = "/chat") => new($"ws://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}{path}");

    /// <summary>Accepts one connection, reads its request head and answers with <paramref name="respond"/>(key).</summary>
    private void Serve(Func<string, byte[]> respond) => _ = Task.Run(async () =>
    {
        _accepted = await _listener.AcceptSocketAsync();
        var buffer = new List<byte>();
        var chunk = new byte[4096];
        while (buffer.ToArray().AsSpan().IndexOf("\r\n\r\n"u8) < 0)
        {
            int n = await _accepted.ReceiveAsync(chunk, SocketFlags.None);
            if (n == 0)
            {
                return;
            }

            buffer.AddRange(chunk.AsSpan(0, n));
        }

        HttpHead head = Http.Request(Encoding.Latin1.GetString([.. buffer]));
        _request.TrySetResult(head);
        byte[] response = respond(head.Get("Sec-WebSocket-Key") ?? string.Empty);
        if (response.Length == 0)
        {
            _accepted.Shutdown(SocketShutdown.Both);
            return;
        }

        await _accepted.SendAsync(response, SocketFlags.None);
    });

    private static byte[] Accept(string key, string extra = "") => Encoding.ASCII.GetBytes(
        $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {HandshakeKey.ComputeAccept(key)}\r\n{extra}\r\n");

    private Task<WebSocketConnection> Connect(WebSocketClientOptions? options = null) =>
        WebSocketClient.ConnectAsync(Uri(), options).WaitAsync(Timeout);

    public async ValueTask DisposeAsync()
    {
        _accepted?.Dispose();
        _listener.Stop();
        _listener.Dispose();
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Client_sends_a_valid_RFC_6455_opening_handshake()
    {
        Serve(key => Accept(key));
        var options = new WebSocketClientOptions();
        options.Subprotocols.Add("chat.v2");
        options.Subprotocols.Add("chat.v1");
        options.Headers.Add(new("Origin", "http://example.com"));

        await using WebSocketConnection client = await Connect(options);
        HttpHead request = await _request.Task.WaitAsync(Timeout);

        Assert.Equal(UpgradeKind.Valid, UpgradeRequest.Check(request).Kind);
        Assert.Equal("/chat", request.Target);
        Assert.Equal($"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}", request.Get("Host"));
        Assert.True(HandshakeKey.IsValidKey(request.Get("Sec-WebSocket-Key")));
        Assert.Equal("13", request.Get("Sec-WebSocket-Version"));
        Assert.Equal(["chat.v2", "chat.v1"], UpgradeRequest.OfferedSubprotocols(request));
        Assert.Equal("http://example.com", request.Get("Origin"));
        Assert.Null(client.Subprotocol);
    }

    [Fact]
    public async Task Client_accepts_the_offered_subprotocol_the_server_chose()
    {
        Serve(key => Accept(key, "Sec-WebSocket-Protocol: chat.v1\r\n"));
        var options = new WebSocketClientOptions();
        options.Subprotocols.Add("chat.v2");
        options.Subprotocols.Add("chat.v1");

        await using WebSocketConnection client = await Connect(options);

        Assert.Equal("chat.v1", client.Subprotocol);
    }

    [Fact]
    public async Task Client_fails_a_wrong_accept_value()
    {
        Serve(_ => Accept(HandshakeKey.NewKey()));

        await Assert.ThrowsAsync<WebSocketHandshakeException>(() => Connect());
    }

    [Fact]
    public async Task Client_fails_a_subprotocol_it_did_not_offer()
    {
        Serve(key => Accept(key, "Sec-WebSocket-Protocol: chat.v3\r\n"));
        var options = new WebSocketClientOptions();
        options.Subprotocols.Add("chat.v1");

        await Assert.ThrowsAsync<WebSocketHandshakeException>(() => Connect(options));
    }

    [Fact]
    public async Task Client_fails_an_extension_it_did_not_offer()
    {
        Serve(key => Accept(key, "Sec-WebSocket-Extensions: permessage-deflate\r\n"));

        await Assert.ThrowsAsync<WebSocketHandshakeException>(() => Connect());
    }

    [Fact]
    public async Task Client_fails_a_missing_Upgrade_header()
    {
        Serve(key => Encoding.ASCII.GetBytes(
            $"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {HandshakeKey.ComputeAccept(key)}\r\n\r\n"));

        await Assert.ThrowsAsync<WebSocketHandshakeException>(() => Connect());
    }

    [Fact]
    public async Task Client_reports_a_non_101_status()
    {
        Serve(_ => Encoding.ASCII.GetBytes("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"));

        var error = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => Connect());

        Assert.Equal(403, error.StatusCode);
    }

    [Fact]
    public async Task Client_fails_when_the_server_closes_during_the_handshake()
    {
        Serve(_ => []);

        await Assert.ThrowsAsync<WebSocketHandshakeException>(() => Connect());
    }

    [Fact]
    public async Task Client_fails_a_malformed_response()
    {
        Serve(_ => "SSH-2.0-OpenSSH_9.6\r\n\r\n"u8.ToArray());

        await Assert.ThrowsAsync<WebSocketHandshakeException>(() => Connect());
    }

    [Fact]
    public async Task Client_times_out_when_the_server_never_answers()
    {
        _ = Task.Run(async () => _accepted = await _listener.AcceptSocketAsync());
        var options = new WebSocketClientOptions { HandshakeTimeout = TimeSpan.FromMilliseconds(300) };

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => Connect(options));

        Assert.True(error is OperationCanceledException or TimeoutException or WebSocketHandshakeException, error.ToString());
    }

    [Fact]
    public async Task Frames_sent_right_behind_the_101_are_delivered()
    {
        Serve(key => Bytes.Concat(Accept(key), Bytes.Hex("81 05 48 65 6c 6c 6f")));

        await using WebSocketConnection client = await Connect();

        Assert.Equal("Hello", (await client.ReceiveAsync().AsTask().WaitAsync(Timeout)).GetText());
    }

    [Fact]
    public async Task Client_refuses_an_unsupported_scheme()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => WebSocketClient.ConnectAsync(new Uri("ftp://127.0.0.1/")));
    }
}
