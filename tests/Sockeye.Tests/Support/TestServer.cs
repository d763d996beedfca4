using Sockeye.Client;
using Sockeye.Server;

namespace Sockeye.Tests.Support;

/// <summary>A <see cref="WebSocketServer"/> on 127.0.0.1 and a free port, stopped on dispose.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private TestServer(WebSocketServer server) => Server = server;

    public WebSocketServer Server { get; }

    public int Port => Server.Port;

    public static async Task<TestServer> StartAsync(Action<WebSocketServer>? map = null, Action<WebSocketServerOptions>? configure = null)
    {
        var options = new WebSocketServerOptions { Host = "127.0.0.1", Port = 0 };
        options.WebSocket.CloseTimeout = TimeSpan.FromSeconds(3);
        configure?.Invoke(options);
        var server = new WebSocketServer(options);
        map?.Invoke(server);
        await server.StartAsync();
        return new TestServer(server);
    }

    public Uri Uri(string pathAndQuery = "/") => new($"ws://127.0.0.1:{Port}{pathAndQuery}");

    public Task<WebSocketConnection> ConnectAsync(string pathAndQuery = "/", WebSocketClientOptions? options = null) =>
        WebSocketClient.ConnectAsync(Uri(pathAndQuery), options).WaitAsync(Timeout);

    /// <summary>The echo handler of the README.</summary>
    public static async Task Echo(WebSocketConnection ws)
    {
        while (await ws.ReceiveAsync() is { IsClose: false } message)
        {
            await ws.SendAsync(message.Type, message.Payload);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
    }
}
