using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Sockeye.Topics;

namespace Sockeye.ScaleOut.Tests;

/// <summary>
/// Real <c>sockeye serve --broadcast</c> processes on one real backplane server: the same scenarios for every backplane
/// (each test project's <c>CliTests</c> derives from this and says which server).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1052", Justification = "xunit runs the inherited facts on each backplane's derived class.")]
public abstract class CliScenarios
{
    /// <summary>Starts the backplane's server.</summary>
    private protected abstract Task<BackingServer> StartServerAsync();

    /// <summary>The serve option of the backplane's presence timeout in seconds (e.g. <c>--redis-presence-timeout</c>).</summary>
    private protected abstract string PresenceTimeoutOption { get; }

    /// <summary>An in-process node on the CLI nodes' prefix, with presence on and this presence timeout.</summary>
    private protected abstract Task<IScaleOutNode> StartWatcherAsync(BackingServer server, TimeSpan timeout);

    [Fact]
    public async Task Three_serve_nodes_deliver_every_message_of_every_plain_client_to_all_in_one_order()
    {
        await using BackingServer server = await StartServerAsync();
        var nodes = new List<CliNode>();
        var clients = new List<WebSocketConnection>();
        try
        {
            for (int n = 0; n < 3; n++)
            {
                nodes.Add(await CliNode.StartAsync(server));
            }

            foreach (CliNode node in nodes)
            {
                clients.Add(await node.ConnectAsync("/room"));
            }

            // A plain client is subscribed before the server reads its first message: its own echo proves it is in.
            // Once all are, a marker from one reaches everyone and ends what came before.
            for (int n = 0; n < 3; n++)
            {
                await clients[n].SendTextAsync($"hello-{n}");
                await ReceiveUntilAsync(clients[n], $"hello-{n}");
            }

            await clients[0].SendTextAsync("go");
            foreach (WebSocketConnection client in clients)
            {
                await ReceiveUntilAsync(client, "go");
            }

            const int PerClient = 50;
            await Task.WhenAll(clients.Select((client, n) => Task.Run(async () =>
            {
                for (int i = 0; i < PerClient; i++)
                {
                    await client.SendTextAsync($"{n}-{i:00}");
                }
            })));

            List<string>? first = null;
            foreach (WebSocketConnection client in clients)
            {
                var texts = new List<string>();
                for (int i = 0; i < 3 * PerClient; i++)
                {
                    texts.Add(await ReceiveTextAsync(client));
                }

                first ??= texts;
                Assert.Equal(first, texts);
                for (int n = 0; n < 3; n++)
                {
                    Assert.Equal(Enumerable.Range(0, PerClient).Select(i => $"{n}-{i:00}"), texts.Where(t => t.StartsWith($"{n}-", StringComparison.Ordinal)));
                }
            }
        }
        finally
        {
            foreach (WebSocketConnection client in clients)
            {
                client.Abort();
            }

            foreach (CliNode node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_client_whose_node_is_killed_resumes_on_another_node_with_every_message_once()
    {
        await using BackingServer server = await StartServerAsync();
        await using CliNode first = await CliNode.StartAsync(server, "--history", "1000");
        await using CliNode second = await CliNode.StartAsync(server, "--history", "1000");
        await using CliNode publisherNode = await CliNode.StartAsync(server, "--history", "1000");
        WebSocketConnection publisher = await publisherNode.ConnectAsync("/", TopicHub.Subprotocol);
        await CliNode.ExpectOpAsync(publisher, "hello");

        WebSocketConnection client = await first.ConnectAsync("/", TopicHub.Subprotocol);
        await CliNode.ExpectOpAsync(client, "hello");
        await client.SendTextAsync("""{"op":"sub","id":1,"topic":"feed"}""");
        await CliNode.ExpectOpAsync(client, "subscribed");
        for (int i = 1; i <= 20; i++)
        {
            await Publish(publisher, i);
        }

        JsonElement last = default;
        for (int i = 1; i <= 10; i++)
        {
            last = await CliNode.ExpectOpAsync(client, "msg");
            Assert.Equal($"m{i}", last.GetProperty("text").GetString());
        }

        // Mid-stream: the node dies with the client's messages 11.. unread; publishing goes on.
        await first.KillAsync();
        client.Abort();
        for (int i = 21; i <= 40; i++)
        {
            await Publish(publisher, i);
        }

        WebSocketConnection resumed = await second.ConnectAsync("/", TopicHub.Subprotocol);
        await CliNode.ExpectOpAsync(resumed, "hello");
        await resumed.SendTextAsync($$$"""{"op":"sub","id":1,"topic":"feed","since":{"epoch":"{{{last.GetProperty("epoch").GetString()}}}","offset":10}}""");
        JsonElement subscribed = await CliNode.ExpectOpAsync(resumed, "subscribed");
        Assert.True(subscribed.GetProperty("recovered").GetBoolean());
        await Publish(publisher, 41);
        for (int i = 11; i <= 41; i++)
        {
            JsonElement msg = await CliNode.ReceiveJsonAsync(resumed);
            Assert.Equal("msg", msg.GetProperty("op").GetString());
            Assert.Equal(i, msg.GetProperty("offset").GetInt64());
            Assert.Equal($"m{i}", msg.GetProperty("text").GetString());
        }

        resumed.Abort();
        publisher.Abort();
    }

    [Fact]
    public async Task A_node_killed_with_sigkill_leaves_presence_within_the_configured_time()
    {
        await using BackingServer server = await StartServerAsync();
        TimeSpan timeout = TimeSpan.FromSeconds(1.5);
        await using CliNode doomed = await CliNode.StartAsync(server, "--presence", PresenceTimeoutOption, "1.5");
        await using IScaleOutNode watcher = await StartWatcherAsync(server, timeout);
        (Sockeye.Tests.Topics.TopicPeer peer, JsonElement __) = await watcher.SubscribeV1Async("room", ""","presence":{"name":"watcher"}""");
        await using Sockeye.Tests.Topics.TopicPeer _ = peer;

        WebSocketConnection remote = await doomed.ConnectAsync("/", TopicHub.Subprotocol);
        string remoteId = (await CliNode.ExpectOpAsync(remote, "hello")).GetProperty("connection").GetString()!;
        await remote.SendTextAsync("""{"op":"sub","id":1,"topic":"room","presence":{"name":"doomed"}}""");
        await CliNode.ExpectOpAsync(remote, "subscribed");
        await ExpectMemberAsync(peer, "join", remoteId);
        Assert.Contains(await watcher.Hub.GetPresenceAsync("room"), m => m.Connection == remoteId);

        await doomed.KillAsync();
        var clock = Stopwatch.StartNew();
        await ExpectMemberAsync(peer, "leave", remoteId);
        // Dead after the timeout; swept by the next heartbeat of a live node. Slack for a busy machine.
        Assert.True(clock.Elapsed < timeout + (timeout / 3) + TimeSpan.FromSeconds(5), $"left after {clock.Elapsed}");
        IReadOnlyList<PresenceMember> members = await watcher.Hub.GetPresenceAsync("room");
        Assert.DoesNotContain(members, m => m.Connection == remoteId);
        Assert.Single(members);
        remote.Abort();
    }

    private static async Task ExpectMemberAsync(Sockeye.Tests.Topics.TopicPeer peer, string op, string connection)
    {
        for (int i = 0; i < 100; i++)
        {
            JsonElement frame = await peer.ExpectOpAsync(op);
            if (frame.GetProperty("member").GetProperty("connection").GetString() == connection)
            {
                return;
            }
        }

        throw new InvalidOperationException($"no {op} of {connection}");
    }

    private static Task Publish(WebSocketConnection publisher, int i) =>
        publisher.SendTextAsync($$"""{"op":"pub","topic":"feed","text":"m{{i}}"}""").AsTask();

    private static async Task<string> ReceiveTextAsync(WebSocketConnection client)
    {
        WebSocketMessage message = await client.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(15));
        Assert.False(message.IsClose, "closed");
        return Encoding.UTF8.GetString(message.Payload);
    }

    private static async Task ReceiveUntilAsync(WebSocketConnection client, string text)
    {
        for (int i = 0; i < 1000 && await ReceiveTextAsync(client) != text; i++)
        {
        }
    }
}
