using Sockeye.Client;
using Sockeye.Server;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Server;

/// <summary>
/// <see cref="WebSocketConnection.Aborted"/> and <see cref="HandshakeContext.Aborted"/>: what a handler or hook waiting
/// on its token sees when the server stops or the connection ends.
/// </summary>
public class AbortedTokenTests
{
    private static readonly TimeSpan Timeout = TestServer.Timeout;

    /// <summary>A handler that only waits for its token, reporting when it started waiting and when it was released.</summary>
    private sealed class WaitingHandler
    {
        public TaskCompletionSource Waiting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task Handle(WebSocketConnection connection)
        {
            CancellationToken aborted = connection.Aborted;
            Waiting.TrySetResult();
            try
            {
                await Task.Delay(System.Threading.Timeout.Infinite, aborted);
            }
            catch (OperationCanceledException)
            {
                Released.TrySetResult();
            }
        }
    }

    [Fact]
    public async Task A_handler_waiting_on_Aborted_is_released_by_StopAsync_and_the_client_still_gets_1001()
    {
        var handler = new WaitingHandler();
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/", handler.Handle));
        await using WebSocketConnection client = await server.ConnectAsync();
        await handler.Waiting.Task.WaitAsync(Timeout);
        Task<WebSocketMessage> closing = client.ReceiveAsync().AsTask();

        await server.Server.StopAsync().WaitAsync(Timeout);

        await handler.Released.Task.WaitAsync(Timeout);
        Assert.True((await closing.WaitAsync(Timeout)).IsClose);
        // The handler returned as soon as it was released; the close code is still the shutdown's, not 1000.
        Assert.Equal(CloseCode.GoingAway, client.CloseStatus);
    }

    [Fact]
    public async Task A_handler_waiting_on_Aborted_is_released_when_the_client_closes()
    {
        var handler = new WaitingHandler();
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/", handler.Handle));
        await using WebSocketConnection client = await server.ConnectAsync();
        await handler.Waiting.Task.WaitAsync(Timeout);

        await client.CloseAsync(CloseCode.NormalClosure, "bye").WaitAsync(Timeout);

        await handler.Released.Task.WaitAsync(Timeout);
        Assert.Equal(CloseCode.NormalClosure, client.CloseStatus);
    }

    [Fact]
    public async Task A_handler_waiting_on_Aborted_is_released_when_the_TCP_connection_drops()
    {
        var handler = new WaitingHandler();
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/", handler.Handle));
        await using WebSocketConnection client = await server.ConnectAsync();
        await handler.Waiting.Task.WaitAsync(Timeout);

        client.Abort("test: gone without a close frame");

        await handler.Released.Task.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Aborted_is_canceled_for_a_closed_connection_and_not_before()
    {
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/", TestServer.Echo));
        await using WebSocketConnection client = await server.ConnectAsync();
        CancellationToken early = client.Aborted;
        Assert.False(early.IsCancellationRequested);

        await client.CloseAsync().WaitAsync(Timeout);

        Assert.True(client.Aborted.IsCancellationRequested); // read after the close
        await Task.Delay(System.Threading.Timeout.Infinite, early).ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(Timeout);
        Assert.True(early.IsCancellationRequested); // read before it, canceled with it
    }

    [Fact]
    public async Task A_handshake_hook_waiting_on_Aborted_is_released_by_StopAsync_and_the_upgrade_is_refused_with_503()
    {
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/", TestServer.Echo), o => o.OnHandshake = async context =>
        {
            waiting.TrySetResult();
            try
            {
                await Task.Delay(System.Threading.Timeout.Infinite, context.Aborted);
            }
            catch (OperationCanceledException)
            {
                released.TrySetResult();
                throw;
            }
        });
        Task<WebSocketConnection> connecting = server.ConnectAsync();
        await waiting.Task.WaitAsync(Timeout);

        Task stopping = server.Server.StopAsync();

        await released.Task.WaitAsync(Timeout);
        WebSocketHandshakeException refused = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => connecting);
        Assert.Equal(503, refused.StatusCode);
        await stopping.WaitAsync(Timeout);
    }

    [Fact]
    public async Task A_handshake_whose_hook_finishes_after_StopAsync_began_is_refused_not_left_open()
    {
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/", TestServer.Echo), o => o.OnHandshake = async _ =>
        {
            waiting.TrySetResult();
            await gate.Task; // ignores the token: it allows the upgrade once let through
        });
        Task<WebSocketConnection> connecting = server.ConnectAsync();
        await waiting.Task.WaitAsync(Timeout);

        Task stopping = server.Server.StopAsync(); // shutdown has begun when StopAsync returns its task
        gate.SetResult();

        WebSocketHandshakeException refused = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => connecting);
        Assert.Equal(503, refused.StatusCode);
        await stopping.WaitAsync(Timeout);
        Assert.Equal(0, server.Server.ConnectionCount);
    }
}
