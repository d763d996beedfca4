using BenchmarkDotNet.Attributes;
using Sockeye.Client;
using Sockeye.Server;

namespace Sockeye.Micro;

/// <summary>
/// Steady-state echo over real loopback sockets, Sockeye server and Sockeye client in one process. The
/// "Allocated" column covers both ends (transport loops, parser, handoff, send path): the goal is 0 B per message.
/// </summary>
[MemoryDiagnoser]
public class SocketEchoBenchmarks
{
    private WebSocketServer _server = null!;
    private WebSocketConnection _client = null!;
    private byte[] _payload = [];

    [Params(16, 4096, 65536)]
    public int Size { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        var noKeepalive = new WebSocketOptions { PingInterval = TimeSpan.Zero, MaxMessageSize = 1 << 20 };
        _server = new WebSocketServer(new WebSocketServerOptions { Port = 0, WebSocket = noKeepalive });
        _server.MapFallback(async ws =>
        {
            while (await ws.ReceiveAsync() is { IsClose: false } message)
            {
                await ws.SendAsync(message.Type, message.Payload);
            }
        });
        await _server.StartAsync();
        var options = new WebSocketClientOptions { WebSocket = noKeepalive };
        _client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{_server.Port}/"), options);
        _payload = new byte[Size];
    }

    // 100 round trips per invocation, so the harness's own cost of awaiting an async benchmark (a Task when
    // the ValueTask is not already complete) is spread thin and the column shows Sockeye's allocations.
    [Benchmark(Description = "loopback echo round trip", OperationsPerInvoke = 100)]
    public async Task<long> RoundTrip()
    {
        long total = 0;
        for (int i = 0; i < 100; i++)
        {
            await _client.SendBinaryAsync(_payload);
            WebSocketMessage reply = await _client.ReceiveAsync();
            total += reply.Payload.Length;
        }

        return total;
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _client.CloseAsync();
        await _server.StopAsync();
    }
}
