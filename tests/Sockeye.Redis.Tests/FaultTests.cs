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
        await using Node a = await Node.StartAsync(redis, "a", history);
        await using Node b = await Node.StartAsync(redis, "b", history);
        (TopicPeer onA, JsonElement subscribedA) = await a.SubscribeV1Async("t");
        (TopicPeer onB, JsonElement subscribedB) = await b.SubscribeV1Async("t");
        await using TopicPeer _ = onA;
        await using TopicPeer __ = onB;
        for (int i = 1; i <= 5; i++)
        {
            await (i % 2 == 0 ? a : b).Hub.PublishTextAsync("t", $"m{i}");
        }

        // Both have everything before the kill (else its loss, with Redis's data, is rightly a reset too).
        List<JsonElement> beforeOnA = await Frames.UntilTextAsync(onA, "m5");
        List<JsonElement> beforeOnB = await Frames.UntilTextAsync(onB, "m5");
        await redis.KillAsync();
        await RedisServer.WaitUntilAsync(() => !a.Backplane.IsConnected && !b.Backplane.IsConnected, "both nodes see redis gone");

        // Local delivery goes on, announced as a new (local) stream.
        StreamPosition local = await a.Hub.PublishTextAsync("t", "during");
        Assert.StartsWith("local-", local.Epoch, StringComparison.Ordinal);
        Assert.Equal(1, a.Backplane.Counters.LocalPublishes);
        Assert.True(a.Backplane.Counters.Outages >= 1);
        List<JsonElement> duringOnA = await Frames.UntilTextAsync(onA, "during");

        // Redis comes back empty (no persistence): a new epoch. Both nodes reconnect by themselves.
        await redis.RestartAsync();
        await RedisServer.WaitUntilAsync(() => a.Backplane.IsConnected && b.Backplane.IsConnected, "both nodes reconnect");
        await b.Hub.PublishTextAsync("t", "after");
        List<JsonElement> afterOnA = await Frames.UntilTextAsync(onA, "after");
        List<JsonElement> afterOnB = await Frames.UntilTextAsync(onB, "after");

        List<string> textsA = Frames.AssertContinuous(subscribedA.GetProperty("epoch").GetString()!, 0, [.. beforeOnA, .. duringOnA, .. afterOnA]);
        Assert.Equal(["m1", "m2", "m3", "m4", "m5", "during", "after"], textsA);
        List<string> textsB = Frames.AssertContinuous(subscribedB.GetProperty("epoch").GetString()!, 0, [.. beforeOnB, .. afterOnB]);
        Assert.Equal(["m1", "m2", "m3", "m4", "m5", "after"], textsB); // "during" was a's alone
        JsonElement lastReset = afterOnA.Last(f => f.GetProperty("op").GetString() == "reset");
        Assert.NotEqual(subscribedA.GetProperty("epoch").GetString(), lastReset.GetProperty("epoch").GetString());

        // And the stream goes on normally from either node.
        await a.Hub.PublishTextAsync("t", "later");
        Assert.Equal(["later"], Frames.AssertContinuous(afterOnA[^1].GetProperty("epoch").GetString()!, afterOnA[^1].GetProperty("offset").GetInt64(), await Frames.UntilTextAsync(onA, "later")));
        Assert.Equal(["later"], Frames.AssertContinuous(afterOnB[^1].GetProperty("epoch").GetString()!, afterOnB[^1].GetProperty("offset").GetInt64(), await Frames.UntilTextAsync(onB, "later")));
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
