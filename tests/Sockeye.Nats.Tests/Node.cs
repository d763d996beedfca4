using System.Text.Json;
using Sockeye.Tests.Topics;
using Sockeye.Topics;

namespace Sockeye.Nats.Tests;

/// <summary>One node: a hub on its own <see cref="NatsBackplane"/> (its own NATS connection).</summary>
internal sealed class Node : IScaleOutNode
{
    private Node(TopicHub hub, NatsBackplane backplane, TestLog log)
    {
        Hub = hub;
        Backplane = backplane;
        Log = log;
    }

    public TestLog Log { get; }

    public TopicHub Hub { get; }

    public NatsBackplane Backplane { get; }

    public bool IsConnected => Backplane.IsConnected;

    /// <summary>Discontinuities this node reported (the backplane's <c>Resets</c> counter).</summary>
    public long Resets => Backplane.Counters.Resets;

    public static Task<Node> StartAsync(NatsServer nats, string name, TopicOptions? topics = null, TimeSpan? presenceTimeout = null, string prefix = "test", int historyPerTopic = 1000) =>
        StartAsync(nats.Url, name, topics, presenceTimeout, prefix, historyPerTopic);

    public static async Task<Node> StartAsync(string url, string name, TopicOptions? topics = null, TimeSpan? presenceTimeout = null, string prefix = "test", int historyPerTopic = 1000)
    {
        TimeSpan timeout = presenceTimeout ?? TimeSpan.FromSeconds(15);
        var log = new TestLog();
        NatsBackplane backplane = await NatsBackplane.ConnectAsync(new NatsBackplaneOptions
        {
            Url = url,
            Prefix = prefix,
            NodeId = name,
            PresenceTimeout = timeout,
            PresenceHeartbeat = timeout / 3,
            HistoryPerTopic = historyPerTopic,
            Logger = log,
        });
        var hub = new TopicHub(new TopicHubOptions { Backplane = backplane, NodeName = name, Topics = topics ?? TopicOptions.Default });
        return new Node(hub, backplane, log);
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
