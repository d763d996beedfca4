using Sockeye.Client;
using Sockeye.Server;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Server;

public class RoutingTests
{
    private static Task Greet(WebSocketConnection ws, string who) => ws.SendTextAsync(who).AsTask();

    private static void MapAll(WebSocketServer server, bool withFallback)
    {
        server.Map("/a", ws => Greet(ws, "a"));
        server.Map("/b", ws => Greet(ws, "b"));
        if (withFallback)
        {
            server.MapFallback(ws => Greet(ws, "fallback " + ws.Request.Path));
        }
    }

    private static async Task<string> FirstMessage(TestServer server, string path)
    {
        await using WebSocketConnection client = await server.ConnectAsync(path);
        return (await client.ReceiveAsync().AsTask().WaitAsync(TestServer.Timeout)).GetText();
    }

    [Fact]
    public async Task Routes_by_exact_path_then_fallback()
    {
        await using TestServer server = await TestServer.StartAsync(s => MapAll(s, withFallback: true));

        Assert.Equal("a", await FirstMessage(server, "/a"));
        Assert.Equal("b", await FirstMessage(server, "/b"));
        Assert.Equal("b", await FirstMessage(server, "/b?x=1")); // the query is not part of the path
        Assert.Equal("fallback /c", await FirstMessage(server, "/c"));
        Assert.Equal("fallback /a/", await FirstMessage(server, "/a/"));
    }

    [Fact]
    public async Task Unmapped_path_without_fallback_fails_the_handshake_with_404()
    {
        await using TestServer server = await TestServer.StartAsync(s => MapAll(s, withFallback: false));

        var error = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => server.ConnectAsync("/c"));

        Assert.Equal(404, error.StatusCode);
        Assert.Equal("a", await FirstMessage(server, "/a")); // the server is unaffected
    }

    [Fact]
    public void Map_refuses_a_path_without_leading_slash()
    {
        var server = new WebSocketServer(new WebSocketServerOptions { Port = 0 });

        Assert.Throws<ArgumentException>(() => server.Map("chat", _ => Task.CompletedTask));
    }
}
