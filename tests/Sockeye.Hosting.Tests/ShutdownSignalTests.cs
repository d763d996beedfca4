using System.Diagnostics;
using Sockeye.Client;
using Sockeye.Server;

namespace Sockeye.Hosting.Tests;

/// <summary>Signals go to the whole test process: nothing else runs meanwhile.</summary>
[CollectionDefinition(nameof(ProcessSignals), DisableParallelization = true)]
public sealed class ProcessSignals;

/// <summary>
/// The core library's stop-on-signal helper for console apps without a host (src/Sockeye/Server/ShutdownSignal.cs).
/// POSIX only: the signal is sent with kill(1).
/// </summary>
[Collection(nameof(ProcessSignals))]
public class ShutdownSignalTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Sigterm_stops_RunAsync_and_clients_get_1001()
    {
        await using var server = new WebSocketServer(new WebSocketServerOptions { Port = 0 });
        server.Map("/", async ws =>
        {
            while (await ws.ReceiveAsync() is { IsClose: false } message)
            {
                await ws.SendAsync(message.Type, message.Payload);
            }
        });
        using var shutdown = new ShutdownSignal();
        // RunAsync binds synchronously before its first await, so the bound port is known when it returns.
        Task running = server.RunAsync(shutdown.Token);
        Assert.NotEqual(0, server.Port);
        await using WebSocketConnection client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{server.Port}/")).WaitAsync(Timeout);
        await client.SendTextAsync("ping").AsTask().WaitAsync(Timeout);
        Assert.Equal("ping", (await client.ReceiveAsync().AsTask().WaitAsync(Timeout)).GetText());

        using (Process kill = Process.Start("kill", ["-TERM", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync().WaitAsync(Timeout);
            Assert.Equal(0, kill.ExitCode);
        }

        WebSocketMessage message = await client.ReceiveAsync().AsTask().WaitAsync(Timeout);
        await running.WaitAsync(Timeout);
        Assert.True(shutdown.Token.IsCancellationRequested);
        Assert.True(message.IsClose);
        Assert.Equal(CloseCode.GoingAway, client.CloseStatus);
    }
}
