using System.Text;
using Sockeye.Client;
using Sockeye.Server;

namespace Sockeye.SecurityTests.Support;

/// <summary>Loopback servers on port 0 with an echo endpoint, and the health check every attack test ends with.</summary>
internal static class Servers
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>Echoes every message back; returns when the peer closes.</summary>
    public static async Task EchoAsync(WebSocketConnection connection)
    {
        while (await connection.ReceiveAsync() is { IsClose: false } message)
        {
            await connection.SendAsync(message.Type, message.Payload);
        }
    }

    public static async Task<WebSocketServer> StartEchoAsync(Action<WebSocketServerOptions>? configure = null, WebSocketHandler? handler = null)
    {
        var options = new WebSocketServerOptions { Host = "127.0.0.1", Port = 0 };
        configure?.Invoke(options);
        var server = new WebSocketServer(options);
        server.MapFallback(handler ?? EchoAsync);
        await server.StartAsync();
        return server;
    }

    /// <summary>
    /// The server still serves: a fresh client connects, gets an echo of a text and a binary message, and closes
    /// cleanly with 1000.
    /// </summary>
    public static async Task AssertHealthyAsync(WebSocketServer server)
    {
        var scheme = server.Options.Certificate is null ? "ws" : "wss";
        var options = new WebSocketClientOptions { AllowInvalidCertificates = true };
        options.WebSocket.PingInterval = TimeSpan.Zero;
        using var cts = new CancellationTokenSource(Timeout);
        await using WebSocketConnection client = await WebSocketClient.ConnectAsync(new Uri($"{scheme}://127.0.0.1:{server.Port}/health"), options, cts.Token);
        await client.SendTextAsync("still alive?", cts.Token);
        WebSocketMessage text = await client.ReceiveAsync(cts.Token);
        Assert.Equal(MessageType.Text, text.Type);
        Assert.Equal("still alive?", text.GetText());
        byte[] data = Encoding.ASCII.GetBytes("binary ok");
        await client.SendBinaryAsync(data, cts.Token);
        WebSocketMessage binary = await client.ReceiveAsync(cts.Token);
        Assert.Equal(MessageType.Binary, binary.Type);
        Assert.Equal(data, binary.ToArray());
        await client.CloseAsync(CloseCode.NormalClosure, "bye", cts.Token);
        Assert.Equal(CloseCode.NormalClosure, client.CloseStatus);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails after <paramref name="timeout"/>.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Timeout);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for: {what}");
            await Task.Delay(10);
        }
    }
}

/// <summary>Captures the server-side connection(s) and what their handlers saw.</summary>
internal sealed class Captured
{
    private readonly TaskCompletionSource<WebSocketConnection> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<WebSocketConnection> First => _first.Task;

    public void Set(WebSocketConnection connection) => _first.TrySetResult(connection);
}
