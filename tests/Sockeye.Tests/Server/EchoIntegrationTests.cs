using Sockeye.Client;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Server;

/// <summary>Server and client over real loopback sockets.</summary>
public class EchoIntegrationTests
{
    private const long Limit = 16 * 1024 * 1024 + 1024;

    private static Task<TestServer> StartEchoServer() =>
        TestServer.StartAsync(s => s.Map("/echo", TestServer.Echo), o => o.WebSocket.MaxMessageSize = Limit);

    private static WebSocketClientOptions ClientOptions()
    {
        var options = new WebSocketClientOptions();
        options.WebSocket.MaxMessageSize = Limit;
        return options;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65535)]
    [InlineData(65536)]
    [InlineData(1024 * 1024)]
    [InlineData(16 * 1024 * 1024)]
    public async Task Echoes_binary_messages(int size)
    {
        await using TestServer server = await StartEchoServer();
        await using WebSocketConnection client = await server.ConnectAsync("/echo", ClientOptions());
        byte[] data = Bytes.Pattern(size);

        await client.SendBinaryAsync(data).AsTask().WaitAsync(TestServer.Timeout);
        WebSocketMessage echo = await client.ReceiveAsync().AsTask().WaitAsync(TestServer.Timeout);

        Assert.Equal(MessageType.Binary, echo.Type);
        Assert.Equal(size, echo.Payload.Length);
        Assert.True(echo.ToArray().AsSpan().SequenceEqual(data));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(70_000)]
    [InlineData(16 * 1024 * 1024 / 3)]
    public async Task Echoes_text_messages(int characters)
    {
        await using TestServer server = await StartEchoServer();
        await using WebSocketConnection client = await server.ConnectAsync("/echo", ClientOptions());
        string text = string.Concat(Enumerable.Range(0, characters).Select(i => i % 7 == 0 ? '€' : (char)('a' + (i % 26))));

        await client.SendTextAsync(text).AsTask().WaitAsync(TestServer.Timeout);
        WebSocketMessage echo = await client.ReceiveAsync().AsTask().WaitAsync(TestServer.Timeout);

        Assert.Equal(MessageType.Text, echo.Type);
        Assert.Equal(text, echo.GetText());
    }

    [Fact]
    public async Task Echoes_many_messages_in_order()
    {
        await using TestServer server = await StartEchoServer();
        await using WebSocketConnection client = await server.ConnectAsync("/echo");

        for (int i = 0; i < 100; i++)
        {
            await client.SendTextAsync($"message {i}").AsTask().WaitAsync(TestServer.Timeout);
        }

        for (int i = 0; i < 100; i++)
        {
            Assert.Equal($"message {i}", (await client.ReceiveAsync().AsTask().WaitAsync(TestServer.Timeout)).GetText());
        }
    }

    [Fact]
    public async Task Echoes_a_fragmented_message_as_one()
    {
        await using TestServer server = await StartEchoServer();
        await using WebSocketConnection client = await server.ConnectAsync("/echo");

        await using (WebSocketMessageWriter writer = await client.BeginMessageAsync(MessageType.Text))
        {
            await writer.WriteAsync("Hel");
            await writer.WriteAsync("lo, ");
            await writer.CompleteAsync("world"u8.ToArray());
        }

        Assert.Equal("Hello, world", (await client.ReceiveAsync().AsTask().WaitAsync(TestServer.Timeout)).GetText());
    }

    [Fact]
    public async Task Server_counts_open_connections()
    {
        await using TestServer server = await StartEchoServer();
        await using WebSocketConnection a = await server.ConnectAsync("/echo");
        await using WebSocketConnection b = await server.ConnectAsync("/echo");

        // A round trip on each proves the server has registered both.
        await a.SendTextAsync("x");
        await b.SendTextAsync("y");
        await a.ReceiveAsync().AsTask().WaitAsync(TestServer.Timeout);
        await b.ReceiveAsync().AsTask().WaitAsync(TestServer.Timeout);

        Assert.Equal(2, server.Server.ConnectionCount);
    }
}
