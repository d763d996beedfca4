using System.Text.Json;
using Sockeye.Tests.Topics;
using Sockeye.Topics;

namespace Sockeye.Nats.Tests;

/// <summary>One node: a hub on its own <see cref="NatsBackplane"/> (its own NATS connection).</summary>
internal sealed class Node : IAsyncDisposable
{
    private Node(TopicHub hub, NatsBackplane backplane)
    {
        Hub = hub;
        Backplane = backplane;
    }

    public TopicHub Hub { get; }

    public NatsBackplane Backplane { get; }

    public static async Task<Node> StartAsync(NatsServer nats, string name, TopicOptions? topics = null, TimeSpan? presenceTimeout = null, string prefix = "test", int historyPerTopic = 1000)
    {
        TimeSpan timeout = presenceTimeout ?? TimeSpan.FromSeconds(15);
        NatsBackplane backplane = await NatsBackplane.ConnectAsync(new NatsBackplaneOptions
        {
            Url = nats.Url,
            Prefix = prefix,
            NodeId = name,
            PresenceTimeout = timeout,
            PresenceHeartbeat = timeout / 3,
            HistoryPerTopic = historyPerTopic,
        });
        var hub = new TopicHub(new TopicHubOptions { Backplane = backplane, NodeName = name, Topics = topics ?? TopicOptions.Default });
        return new Node(hub, backplane);
    }

    /// <summary>A sockeye.v1 peer subscribed to <paramref name="topic"/> (the `subscribed` frame returned).</summary>
    public async Task<(TopicPeer Peer, JsonElement Subscribed)> SubscribeV1Async(string topic, string extra = "")
    {
        TopicPeer peer = TopicPeer.V1();
        _ = Hub.HandleAsync(peer.Server);
        await peer.ExpectOpAsync("hello");
        await peer.SendJsonAsync($$"""{"op":"sub","id":1,"topic":{{JsonSerializer.Serialize(topic)}}{{extra}}}""");
        JsonElement subscribed = await peer.ExpectOpAsync("subscribed");
        return (peer, subscribed);
    }

    public async ValueTask DisposeAsync()
    {
        await Hub.DisposeAsync();
        await Backplane.DisposeAsync();
    }
}
