using System.Text.Json;
using Sockeye.Tests.Topics;
using Sockeye.Topics;

namespace Sockeye.Redis.Tests;

public class FaultTests
{
    [Fact]
    public async Task Redis_killed_and_restarted_mid_stream_local_delivery_goes_on_then_subscribers_are_reset_never_silently_gapped()
    {
        await using RedisServer redis = await RedisServer.StartAsync();
        var history = new TopicOptions { HistorySize = 100 };
        // Both have m1..m5 before the kill (else its loss, with Redis's data, is rightly a reset too).
        await using var nodes = await TwoSubscribedNodes<Node>.StartAsync(name => Node.StartAsync(redis, name, history), messages: 5);
        Node a = nodes.A, b = nodes.B;
        await nodes.KillServerAsync(redis);

        // Local delivery goes on, announced as a new (local) stream.
        (_, List<JsonElement> duringOnA) = await nodes.PublishLocallyAsync();
        Assert.Equal(1, a.Backplane.Counters.LocalPublishes);
        Assert.True(a.Backplane.Counters.Outages >= 1);

        // Redis comes back empty (no persistence): a new epoch. Both nodes reconnect by themselves.
        await redis.RestartAsync();
        await nodes.BothReconnectedAsync();
        await b.Hub.PublishTextAsync("t", "after");
        List<JsonElement> afterOnA = await Frames.UntilTextAsync(nodes.OnA, "after");
        List<JsonElement> afterOnB = await Frames.UntilTextAsync(nodes.OnB, "after");

        List<string> textsA = Frames.AssertContinuous(nodes.EpochA, 0, [.. nodes.BeforeOnA, .. duringOnA, .. afterOnA]);
        Assert.Equal(["m1", "m2", "m3", "m4", "m5", "during", "after"], textsA);
        List<string> textsB = Frames.AssertContinuous(nodes.EpochB, 0, [.. nodes.BeforeOnB, .. afterOnB]);
        Assert.Equal(["m1", "m2", "m3", "m4", "m5", "after"], textsB); // "during" was a's alone
        JsonElement lastReset = afterOnA.Last(f => f.GetProperty("op").GetString() == "reset");
        Assert.NotEqual(nodes.EpochA, lastReset.GetProperty("epoch").GetString());

        // And the stream goes on normally from either node.
        await a.Hub.PublishTextAsync("t", "later");
        Assert.Equal(["later"], Frames.AssertContinuous(afterOnA[^1].GetProperty("epoch").GetString()!, afterOnA[^1].GetProperty("offset").GetInt64(), await Frames.UntilTextAsync(nodes.OnA, "later")));
        Assert.Equal(["later"], Frames.AssertContinuous(afterOnB[^1].GetProperty("epoch").GetString()!, afterOnB[^1].GetProperty("offset").GetInt64(), await Frames.UntilTextAsync(nodes.OnB, "later")));
    }

    [Fact]
    public async Task A_node_whose_pubsub_connection_is_cut_while_others_publish_loses_nothing()
    {
        await using RedisServer redis = await RedisServer.StartAsync();
        var history = new TopicOptions { HistorySize = 1000 };
        await using Node a = await Node.StartAsync(redis, "a", history);
        await using Node b = await Node.StartAsync(redis, "b", history);
        (TopicPeer onA, JsonElement subscribed) = await a.SubscribeV1Async("t");
        await using TopicPeer _ = onA;
        await b.Hub.PublishTextAsync("t", "m0");
        // Only a's pub/sub connection: b keeps publishing while a reconnects and catches up from the stream.
        string clients = await redis.CommandAsync("CLIENT LIST TYPE pubsub");
        string id = clients.Split('\n').Single(line => line.Contains(" name=sockeye-a ", StringComparison.Ordinal)).Split(' ')[0]["id=".Length..];
        Assert.StartsWith(":1", await redis.CommandAsync($"CLIENT KILL ID {id}"), StringComparison.Ordinal); // one client killed
        for (int i = 1; i <= 200; i++)
        {
            await b.Hub.PublishTextAsync("t", $"m{i}");
        }

        List<JsonElement> frames = await Frames.UntilTextAsync(onA, "m200");
        List<string> texts = Frames.AssertContinuous(subscribed.GetProperty("epoch").GetString()!, 0, frames);
        Assert.Equal(Enumerable.Range(0, 201).Select(i => $"m{i}"), texts);
    }
}
