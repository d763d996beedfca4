using Sockeye.Client;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Server;

public class CloseIntegrationTests
{
    private static readonly TimeSpan Timeout = TestServer.Timeout;

    private static Task<WebSocketMessage> Receive(WebSocketConnection connection) => connection.ReceiveAsync().AsTask().WaitAsync(Timeout);

    [Fact]
    public async Task Client_close_code_and_reason_are_seen_by_the_server()
    {
        var serverSaw = new TaskCompletionSource<(bool IsClose, ushort? Code, string? Reason)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/", async ws =>
        {
            WebSocketMessage message = await ws.ReceiveAsync();
            serverSaw.TrySetResult((message.IsClose, ws.CloseStatus, ws.CloseReason));
        }));
        await using WebSocketConnection client = await server.ConnectAsync();

        Task<WebSocketMessage> drain = Receive(client);
        await client.CloseAsync(4001, "client bye").WaitAsync(Timeout);

        Assert.Equal((true, (ushort?)4001, "client bye"), await serverSaw.Task.WaitAsync(Timeout));
        Assert.True((await drain).IsClose);
        Assert.Equal((ushort)4001, client.CloseStatus); // the server echoed the code
    }

    [Fact]
    public async Task Server_close_code_and_reason_are_seen_by_the_client()
    {
        var serverClosed = new TaskCompletionSource<ushort?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/", async ws =>
        {
            await ws.CloseAsync(4002, "server bye");
            serverClosed.TrySetResult(ws.CloseStatus);
        }));
        await using WebSocketConnection client = await server.ConnectAsync();

        Assert.True((await Receive(client)).IsClose);
        Assert.Equal((ushort)4002, client.CloseStatus);
        Assert.Equal("server bye", client.CloseReason);
        Assert.Equal((ushort)4002, await serverClosed.Task.WaitAsync(Timeout)); // the handshake completed on the server too
        await client.Completion.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Handler_returning_closes_with_1000()
    {
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/", ws => ws.SendTextAsync("only message").AsTask()));
        await using WebSocketConnection client = await server.ConnectAsync();

        Assert.Equal("only message", (await Receive(client)).GetText());
        Assert.True((await Receive(client)).IsClose);
        Assert.Equal(CloseCode.NormalClosure, client.CloseStatus);
    }

    [Fact]
    public async Task Handler_exception_closes_with_1011()
    {
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/", _ => throw new InvalidOperationException("handler bug")));
        await using WebSocketConnection client = await server.ConnectAsync();

        Assert.True((await Receive(client)).IsClose);
        Assert.Equal(CloseCode.InternalError, client.CloseStatus);
    }

    [Fact]
    public async Task Handler_exception_after_receiving_closes_with_1011()
    {
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/", async ws =>
        {
            await ws.ReceiveAsync();
            throw new InvalidOperationException("handler bug");
        }));
        await using WebSocketConnection client = await server.ConnectAsync();

        await client.SendTextAsync("boom");

        Assert.True((await Receive(client)).IsClose);
        Assert.Equal(CloseCode.InternalError, client.CloseStatus);
    }

    [Fact]
    public async Task Message_over_the_server_limit_closes_with_1009()
    {
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/", TestServer.Echo), o => o.WebSocket.MaxMessageSize = 1000);
        await using WebSocketConnection client = await server.ConnectAsync();

        await client.SendBinaryAsync(new byte[1000]);
        Assert.Equal(1000, (await Receive(client)).Payload.Length); // exactly at the limit is fine
        await client.SendBinaryAsync(new byte[1001]);

        Assert.True((await Receive(client)).IsClose);
        Assert.Equal(CloseCode.MessageTooBig, client.CloseStatus);
    }

    [Fact]
    public async Task Message_over_the_client_limit_closes_with_1009()
    {
        var serverSaw = new TaskCompletionSource<ushort?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/", async ws =>
        {
            await ws.SendBinaryAsync(new byte[2000]);
            await ws.ReceiveAsync();
            serverSaw.TrySetResult(ws.CloseStatus);
        }));
        var options = new WebSocketClientOptions();
        options.WebSocket.MaxMessageSize = 1000;
        await using WebSocketConnection client = await server.ConnectAsync("/", options);

        Assert.True((await Receive(client)).IsClose);
        Assert.Equal(CloseCode.MessageTooBig, client.CloseStatus);
        Assert.Equal(CloseCode.MessageTooBig, await serverSaw.Task.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Server_StopAsync_closes_clients_with_1001()
    {
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/", TestServer.Echo));
        await using WebSocketConnection first = await server.ConnectAsync();
        await using WebSocketConnection second = await server.ConnectAsync();
        await first.SendTextAsync("registered?");
        await second.SendTextAsync("registered?");
        await Receive(first);
        await Receive(second);

        Task<WebSocketMessage> firstClose = Receive(first);
        Task<WebSocketMessage> secondClose = Receive(second);
        await server.Server.StopAsync().WaitAsync(Timeout);

        Assert.True((await firstClose).IsClose);
        Assert.True((await secondClose).IsClose);
        Assert.Equal(CloseCode.GoingAway, first.CloseStatus);
        Assert.Equal(CloseCode.GoingAway, second.CloseStatus);
        Assert.Equal(0, server.Server.ConnectionCount);
        await Assert.ThrowsAnyAsync<Exception>(() => server.ConnectAsync()); // no longer listening
    }

    [Fact]
    public async Task Handler_that_receives_then_closes_completes_the_closing_handshake()
    {
        var handlerClosed = new TaskCompletionSource<ushort?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/", async ws =>
        {
            await ws.ReceiveAsync();
            await ws.CloseAsync(CloseCode.NormalClosure, "done");
            handlerClosed.TrySetResult(ws.CloseStatus);
        }), o => o.WebSocket.CloseTimeout = TimeSpan.FromMinutes(5));
        await using WebSocketConnection client = await server.ConnectAsync();

        await client.SendTextAsync("hello");
        Assert.True((await Receive(client)).IsClose); // the client answers the server's close at once
        Assert.Equal(CloseCode.NormalClosure, client.CloseStatus);

        // The server's CloseAsync must return with the peer's close frame (1000); its close timeout (5 min) is far
        // beyond this wait, so the timeout path cannot pass for it.
        Task finished = await Task.WhenAny(handlerClosed.Task, Task.Delay(TestServer.Timeout));
        Assert.True(finished == handlerClosed.Task, "the handler's CloseAsync never returned");
        Assert.Equal(CloseCode.NormalClosure, await handlerClosed.Task);
    }
}
