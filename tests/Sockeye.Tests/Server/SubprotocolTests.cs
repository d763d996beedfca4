using Sockeye.Client;
using Sockeye.Server;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Server;

public class SubprotocolTests
{
    private static async Task<(string? Client, string? Server)> Negotiate(EndpointOptions endpoint, params string[] offered)
    {
        var serverSide = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/", ws =>
        {
            serverSide.TrySetResult(ws.Subprotocol);
            return Task.CompletedTask;
        }, endpoint));
        var options = new WebSocketClientOptions();
        foreach (string protocol in offered)
        {
            options.Subprotocols.Add(protocol);
        }

        await using WebSocketConnection client = await server.ConnectAsync("/", options);
        return (client.Subprotocol, await serverSide.Task.WaitAsync(TestServer.Timeout));
    }

    [Fact]
    public async Task Server_chooses_the_first_offered_protocol_it_speaks_in_client_order()
    {
        var endpoint = new EndpointOptions();
        endpoint.Subprotocols.Add("chat.v2");
        endpoint.Subprotocols.Add("chat.v1");

        (string? client, string? server) = await Negotiate(endpoint, "chat.v1", "chat.v2");

        Assert.Equal("chat.v1", client);
        Assert.Equal("chat.v1", server);
    }

    [Fact]
    public async Task No_subprotocol_when_nothing_matches()
    {
        var endpoint = new EndpointOptions();
        endpoint.Subprotocols.Add("mqtt");

        (string? client, string? server) = await Negotiate(endpoint, "chat.v1", "chat.v2");

        Assert.Null(client);
        Assert.Null(server);
    }

    [Fact]
    public async Task No_subprotocol_when_the_client_offers_none()
    {
        var endpoint = new EndpointOptions();
        endpoint.Subprotocols.Add("chat");

        (string? client, string? server) = await Negotiate(endpoint);

        Assert.Null(client);
        Assert.Null(server);
    }

    [Fact]
    public async Task Custom_selector_chooses_among_the_offers()
    {
        var endpoint = new EndpointOptions { SelectSubprotocol = offers => offers[^1] };

        (string? client, string? server) = await Negotiate(endpoint, "a", "b", "c");

        Assert.Equal("c", client);
        Assert.Equal("c", server);
    }

    [Fact]
    public async Task Custom_selector_returning_an_unoffered_value_sends_none()
    {
        var endpoint = new EndpointOptions { SelectSubprotocol = _ => "not-offered" };

        (string? client, string? server) = await Negotiate(endpoint, "a");

        Assert.Null(client);
        Assert.Null(server);
    }
}
