using System.Text.Json;
using Sockeye.Tests.Topics;
using Sockeye.Topics;

namespace Sockeye.Redis.Tests;

/// <summary>One node: a hub on its own <see cref="RedisBackplane"/> (its own Redis connections).</summary>
internal sealed class Node : IScaleOutNode
{
    private Node(TopicHub hub, RedisBackplane backplane)
    {
        Hub = hub;
        Backplane = backplane;
    }

    public TopicHub Hub { get; }

    public RedisBackplane Backplane { get; }

    public bool IsConnected => Backplane.IsConnected;

    /// <summary>Discontinuities this node reported (the backplane's <c>Resets</c> counter).</summary>
    public long Resets => Backplane.Counters.Resets;

    public static async Task<Node> StartAsync(RedisServer redis, string name, TopicOptions? topics = null, TimeSpan? presenceTimeout = null, string prefix = "test:")
    {
        TimeSpan timeout = presenceTimeout ?? TimeSpan.FromSeconds(15);
        RedisBackplane backplane = await RedisBackplane.ConnectAsync(new RedisBackplaneOptions
        {
            Configuration = redis.Configuration,
            KeyPrefix = prefix,
            NodeId = name,
            PresenceTimeout = timeout,
            PresenceHeartbeat = timeout / 3,
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
        await peer.SendJsonAsync($$"""{"op":"sub","id":1,"topic":"{{topic}}"{{extra}}}""");
        JsonElement subscribed = await peer.ExpectOpAsync("subscribed");
        return (peer, subscribed);
    }

    public async ValueTask DisposeAsync()
    {
        await Hub.DisposeAsync();
        await Backplane.DisposeAsync();
    }
}
