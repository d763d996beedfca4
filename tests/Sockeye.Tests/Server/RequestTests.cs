using System.Net;
using Sockeye.Client;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Server;

public class RequestTests
{
    [Fact]
    public async Task Handler_sees_path_query_headers_and_remote_endpoint()
    {
        var seen = new TaskCompletionSource<WebSocketRequest>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/room/lobby", ws =>
        {
            seen.TrySetResult(ws.Request);
            return Task.CompletedTask;
        }));
        var options = new WebSocketClientOptions();
        options.Headers.Add(new("X-Test", "value 1"));
        options.Headers.Add(new("Cookie", "session=abc"));

        await using WebSocketConnection client = await server.ConnectAsync("/room/lobby?user=ann&msg=hello%20world&plus=a+b&flag", options);
        WebSocketRequest request = await seen.Task.WaitAsync(TestServer.Timeout);

        Assert.Equal("GET", request.Method);
        Assert.Equal("/room/lobby", request.Path);
        Assert.Equal("?user=ann&msg=hello%20world&plus=a+b&flag", request.QueryString);
        Assert.Equal("ann", request.GetQuery("user"));
        Assert.Equal("hello world", request.GetQuery("msg"));
        Assert.Equal("a b", request.GetQuery("plus"));
        Assert.Equal(string.Empty, request.GetQuery("flag"));
        Assert.Null(request.GetQuery("missing"));
        Assert.Equal("value 1", request.GetHeader("x-test"));
        Assert.Equal("session=abc", request.GetHeader("Cookie"));
        Assert.Equal($"127.0.0.1:{server.Port}", request.GetHeader("Host"));
        Assert.Contains(request.Headers, h => h.Key == "Sec-WebSocket-Version" && h.Value == "13");

        var remote = Assert.IsType<IPEndPoint>(request.RemoteEndPoint);
        var clientLocal = Assert.IsType<IPEndPoint>(client.Request.LocalEndPoint);
        Assert.Equal(IPAddress.Loopback, remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address);
        Assert.Equal(clientLocal.Port, remote.Port);
        Assert.Equal(server.Port, Assert.IsType<IPEndPoint>(request.LocalEndPoint).Port);
    }

    [Fact]
    public async Task Percent_encoded_path_is_decoded_for_routing_and_kept_raw()
    {
        var seen = new TaskCompletionSource<WebSocketRequest>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/a b", ws =>
        {
            seen.TrySetResult(ws.Request);
            return Task.CompletedTask;
        }));

        await using WebSocketConnection client = await server.ConnectAsync("/a%20b");
        WebSocketRequest request = await seen.Task.WaitAsync(TestServer.Timeout);

        Assert.Equal("/a b", request.Path);
        Assert.Equal("/a%20b", request.RawPath);
    }

    [Fact]
    public async Task Client_connection_exposes_the_request_it_sent()
    {
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/x", TestServer.Echo));

        await using WebSocketConnection client = await server.ConnectAsync("/x?q=1");

        Assert.Equal("/x", client.Request.Path);
        Assert.Equal("1", client.Request.GetQuery("q"));
        Assert.Equal(Role.Client, client.Role);
        Assert.Equal(server.Port, Assert.IsType<IPEndPoint>(client.RemoteEndPoint).Port);
    }
}
