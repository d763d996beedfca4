using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Sockeye.Client;
using Sockeye.Diagnostics;
using Sockeye.Extensions;
using Sockeye.Server;
using Sockeye.Tests.Support;
using Sockeye.Transport;

namespace Sockeye.Tests.Server;

/// <summary>The handshake policy on its own (no I/O), and a minimal host built only on its public API.</summary>
public class HandshakePolicyTests
{
    private const string SampleKey = "dGhlIHNhbXBsZSBub25jZQ=="; // RFC 6455 §1.3

    internal static WebSocketRequest Get(string target, params (string Name, string Value)[] extra)
    {
        var headers = new List<KeyValuePair<string, string>>
        {
            new("Host", "127.0.0.1:9000"), new("Upgrade", "websocket"), new("Connection", "Upgrade"),
            new("Sec-WebSocket-Key", SampleKey), new("Sec-WebSocket-Version", "13"),
        };
        headers.AddRange(extra.Select(e => new KeyValuePair<string, string>(e.Name, e.Value)));
        return new WebSocketRequest("GET", target, headers);
    }

    private static WebSocketRequest Connect(string target, params (string Name, string Value)[] fields) =>
        new("CONNECT", target, [new("Host", "127.0.0.1:9000"), .. fields.Select(e => new KeyValuePair<string, string>(e.Name, e.Value))]);

    private static HandshakePolicy Policy(Action<WebSocketServerOptions>? configure = null, EndpointOptions? endpoint = null)
    {
        var options = new WebSocketServerOptions();
        configure?.Invoke(options);
        var policy = new HandshakePolicy(options);
        policy.Map("/chat", _ => Task.CompletedTask, endpoint);
        return policy;
    }

    [Fact]
    public async Task Http11_upgrade_is_accepted_with_101_and_the_RFC_accept_key()
    {
        var endpoint = new EndpointOptions();
        endpoint.Subprotocols.Add("chat.v1");
        HandshakeDecision decision = await Policy(endpoint: endpoint).DecideAsync(Get("/chat?x=1", ("Sec-WebSocket-Protocol", "other, chat.v1")), secure: false, openConnections: 0);

        Assert.True(decision.IsAccepted);
        Assert.Equal(101, decision.Status);
        Assert.Equal("chat.v1", decision.Subprotocol);
        Assert.Equal("/chat", decision.Endpoint!.Path);
        Assert.Equal(
            [new("Upgrade", "websocket"), new("Connection", "Upgrade"), new("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), new("Sec-WebSocket-Protocol", "chat.v1")],
            decision.ResponseHeaders);
    }

    [Fact]
    public async Task Extended_connect_is_accepted_with_200_and_no_accept_key_RFC_8441()
    {
        HandshakePolicy policy = Policy(o => o.WebSocket = new WebSocketOptions { Deflate = new PerMessageDeflateOptions() });
        HandshakeDecision decision = await policy.DecideAsync(
            Connect("/chat", ("Sec-WebSocket-Version", "13"), ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")), true, 0);

        Assert.True(decision.IsAccepted);
        Assert.Equal(200, decision.Status);
        Assert.Equal("permessage-deflate", decision.Extensions);
        Assert.Equal([new("Sec-WebSocket-Extensions", "permessage-deflate")], decision.ResponseHeaders);
    }

    [Theory]
    [InlineData(null, 400, "missing")]
    [InlineData("8", 426, "unsupported")]
    public async Task Extended_connect_with_a_missing_or_other_version_is_refused(string? version, int status, string reason)
    {
        WebSocketRequest request = version is null ? Connect("/chat") : Connect("/chat", ("Sec-WebSocket-Version", version));
        HandshakeDecision decision = await Policy().DecideAsync(request, true, 0);

        Assert.False(decision.IsAccepted);
        Assert.Equal(status, decision.Status);
        Assert.StartsWith(reason, decision.Reason, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => decision.CreateConnection(new StreamTransport(Stream.Null)));
    }

    [Fact]
    public async Task Refusals_come_back_as_values_with_their_status()
    {
        HandshakePolicy policy = Policy(o =>
        {
            o.MaxConnections = 2;
            o.OnHandshake = ctx =>
            {
                if (ctx.Request.GetQuery("token") == "bad")
                {
                    ctx.Reject(401, "bad token");
                }

                return ValueTask.CompletedTask;
            };
        });

        Assert.Equal(404, (await policy.DecideAsync(Get("/nowhere"), false, 0)).Status);
        Assert.Equal(403, (await policy.DecideAsync(Get("/chat", ("Origin", "http://evil.example")), false, 0)).Status);
        Assert.Equal(503, (await policy.DecideAsync(Get("/chat"), false, 2)).Status);
        HandshakeDecision hook = await policy.DecideAsync(Get("/chat?token=bad"), false, 0);
        Assert.Equal((401, "bad token"), (hook.Status, hook.Reason));
        Assert.Equal(400, (await policy.DecideAsync(new WebSocketRequest("GET", "/chat", [new("Host", "127.0.0.1")]), false, 0)).Status);
        // A loopback listener (the default host) serves loopback names only: DNS rebinding gets 421.
        var rebinding = new WebSocketRequest("GET", "/chat", [new("Host", "rebind.example"), new("Upgrade", "websocket"),
            new("Connection", "Upgrade"), new("Sec-WebSocket-Key", SampleKey), new("Sec-WebSocket-Version", "13")]);
        Assert.Equal(421, (await policy.DecideAsync(rebinding, false, 0)).Status);
        // The origin check uses the request's own scheme: an https page is this server's origin only over TLS.
        Assert.True((await policy.DecideAsync(Get("/chat", ("Origin", "https://127.0.0.1:9000")), true, 0)).IsAccepted);
        Assert.Equal(403, (await policy.DecideAsync(Get("/chat", ("Origin", "https://127.0.0.1:9000")), false, 0)).Status);
    }

    [Fact]
    public async Task A_hook_header_with_CR_or_LF_is_refused_with_500_not_sent()
    {
        HandshakePolicy policy = Policy(o => o.OnHandshake = ctx =>
        {
            ctx.ResponseHeaders.Add(new("Set-Cookie", "a=b\r\nX-Injected: 1"));
            return ValueTask.CompletedTask;
        });

        HandshakeDecision decision = await policy.DecideAsync(Get("/chat"), false, 0);

        Assert.Equal(500, decision.Status);
        Assert.Empty(decision.ResponseHeaders);
    }

    [Fact]
    public void WebSocketRequest_can_be_built_by_another_host()
    {
        var request = new WebSocketRequest("GET", "/a%20b?x=1", [new("Cookie", "s=1"), new("X-A", "1"), new("x-a", "2")],
            new IPEndPoint(IPAddress.Loopback, 5), new IPEndPoint(IPAddress.Loopback, 6));

        Assert.Equal(("GET", "/a b", "/a%20b", "?x=1"), (request.Method, request.Path, request.RawPath, request.QueryString));
        Assert.Equal("1, 2", request.GetHeader("X-A"));
        Assert.Equal("1", request.GetCookie("s"));
        Assert.Equal(5, ((IPEndPoint)request.RemoteEndPoint!).Port);
        Assert.Throws<ArgumentException>(() => new WebSocketRequest("GET", "chat", []));
    }

    [Fact]
    public async Task A_host_on_the_public_API_alone_serves_a_socketless_stream_with_compression()
    {
        // A minimal "other host": it reads the request head itself, asks the policy, writes the answer from the
        // decision, then runs the connection over a StreamTransport that has no socket (what ASP.NET Core does).
        var options = new WebSocketServerOptions { WebSocket = new WebSocketOptions { Deflate = new PerMessageDeflateOptions() } };
        var policy = new HandshakePolicy(options);
        policy.Map("/echo", TestServer.Echo);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;

        Task host = Task.Run(async () =>
        {
            Socket socket = await listener.AcceptSocketAsync();
            var stream = new NetworkStream(socket, ownsSocket: true);
            (string target, List<KeyValuePair<string, string>> headers) = await ReadHeadAsync(stream);
            HandshakeDecision decision = await policy.DecideAsync(new WebSocketRequest("GET", target, headers), false, 0);
            Assert.True(decision.IsAccepted, decision.Reason);
            var answer = new StringBuilder("HTTP/1.1 101 Switching Protocols\r\n");
            foreach (var header in decision.ResponseHeaders)
            {
                answer.Append(header.Key).Append(": ").Append(header.Value).Append("\r\n");
            }

            await stream.WriteAsync(Encoding.ASCII.GetBytes(answer.Append("\r\n").ToString()));
            WebSocketConnection connection = decision.CreateConnection(new StreamTransport(stream));
            await decision.RunAsync(connection);
            return connection.CloseStatus;
        });

        var clientOptions = new WebSocketClientOptions { WebSocket = new WebSocketOptions { Deflate = new PerMessageDeflateOptions() } };
        await using (WebSocketConnection client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/echo"), clientOptions))
        {
            Assert.Equal("permessage-deflate", client.Extensions);
            string text = new('a', 100_000);
            await client.SendTextAsync(text);
            WebSocketMessage echo = await client.ReceiveAsync().AsTask().WaitAsync(TestServer.Timeout);
            Assert.Equal(text, echo.GetText());
            await client.CloseAsync(1000, "bye").WaitAsync(TestServer.Timeout);
        }

        await host.WaitAsync(TestServer.Timeout);
    }

    /// <summary>Reads "GET target HTTP/1.1" and its fields, up to the blank line (a test host: no limits, 8 KiB at most).</summary>
    private static async Task<(string Target, List<KeyValuePair<string, string>> Headers)> ReadHeadAsync(Stream stream)
    {
        var bytes = new List<byte>();
        byte[] one = new byte[1];
        while (bytes.Count < 8192 && !(bytes.Count >= 4 && bytes[^4] == '\r' && bytes[^3] == '\n' && bytes[^2] == '\r' && bytes[^1] == '\n'))
        {
            Assert.Equal(1, await stream.ReadAsync(one));
            bytes.Add(one[0]);
        }

        string[] lines = Encoding.ASCII.GetString(bytes.ToArray()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var headers = lines.Skip(1).Select(l => new KeyValuePair<string, string>(l[..l.IndexOf(':', StringComparison.Ordinal)], l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim())).ToList();
        return (lines[0].Split(' ')[1], headers);
    }
}
