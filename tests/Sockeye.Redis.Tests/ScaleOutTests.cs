using System.Text.Json;
using Sockeye.Tests.Topics;
using Sockeye.Topics;
using StackExchange.Redis;
using StreamPosition = Sockeye.Topics.StreamPosition;

namespace Sockeye.Redis.Tests;

public class ScaleOutTests : ScaleOutScenarios
{
    private protected override async Task<BackingServer> StartServerAsync() => await RedisServer.StartAsync();

    private protected override async Task<IScaleOutNode> StartNodeAsync(BackingServer server, string name) => await Node.StartAsync((RedisServer)server, name);

    [Fact]
    public async Task A_client_resuming_against_another_node_gets_exactly_the_missed_messages()
    {
        await using RedisServer redis = await RedisServer.StartAsync();
        var history = new TopicOptions { HistorySize = 100 };
        await using Node a = await Node.StartAsync(redis, "a", history);
        await using Node b = await Node.StartAsync(redis, "b", history);
        await using Node c = await Node.StartAsync(redis, "c", history);

        StreamPosition seen;
        await using (TopicPeer first = TopicPeer.Plain())
        {
            await a.Hub.SubscribeAsync(first.Server, "t");
            for (int i = 1; i <= 10; i++)
            {
                await b.Hub.PublishTextAsync("t", $"m{i}");
            }

            for (int i = 1; i <= 10; i++)
            {
                Assert.Equal($"m{i}", await first.ReceiveTextAsync());
            }

            seen = (await a.Hub.Backplane.ReadAsync("t", null, history, [], CancellationToken.None)).Current;
            Assert.Equal(10, seen.Offset);
        }

        for (int i = 11; i <= 20; i++)
        {
            await c.Hub.PublishTextAsync("t", $"m{i}");
        }

        await using TopicPeer resumed = TopicPeer.Plain();
        HistoryRead read = await b.Hub.SubscribeAsync(resumed.Server, "t", seen);
        Assert.True(read.Recovered);
        Assert.Equal(new StreamPosition(seen.Epoch, 20), read.Current);
        await a.Hub.PublishTextAsync("t", "m21");
        for (int i = 11; i <= 21; i++)
        {
            Assert.Equal($"m{i}", await resumed.ReceiveTextAsync());
        }

        await c.Hub.PublishTextAsync("t", "end");
        Assert.Equal("end", await resumed.ReceiveTextAsync());

        // Another epoch, a position ahead, or one older than the history: not recovered, live only.
        await using TopicPeer stranger = TopicPeer.Plain();
        Assert.False((await c.Hub.SubscribeAsync(stranger.Server, "t", new StreamPosition("other", 3))).Recovered);
        await using TopicPeer ahead = TopicPeer.Plain();
        Assert.False((await c.Hub.SubscribeAsync(ahead.Server, "t", new StreamPosition(seen.Epoch, 99))).Recovered);
    }

    [Fact]
    public async Task Resume_from_before_the_kept_history_is_not_recovered()
    {
        await using RedisServer redis = await RedisServer.StartAsync();
        var history = new TopicOptions { HistoryAge = TimeSpan.FromMilliseconds(300) };
        await using Node a = await Node.StartAsync(redis, "a", history);
        StreamPosition first = await a.Hub.PublishTextAsync("t", "old");
        await using TopicPeer fresh = TopicPeer.Plain();
        Assert.True((await a.Hub.SubscribeAsync(fresh.Server, "t", new StreamPosition(first.Epoch, 0))).Recovered);
        Assert.Equal("old", await fresh.ReceiveTextAsync());

        // Past the age, "old" is no longer history: resuming from before it must say so.
        await RedisServer.WaitUntilAsync(async () =>
        {
            await using TopicPeer probe = TopicPeer.Plain();
            return !(await a.Hub.SubscribeAsync(probe.Server, "t", new StreamPosition(first.Epoch, 0))).Recovered;
        }, "the message ages out of the history");
    }

    [Fact]
    public async Task A_message_missed_on_pubsub_is_fetched_from_the_stream_in_its_place()
    {
        await using RedisServer redis = await RedisServer.StartAsync();
        var history = new TopicOptions { HistorySize = 100 };
        await using Node a = await Node.StartAsync(redis, "a", history);
        await using Node b = await Node.StartAsync(redis, "b", history);
        (TopicPeer peer, JsonElement subscribed) = await a.SubscribeV1Async("t");
        await using TopicPeer _ = peer;
        await b.Hub.PublishTextAsync("t", "m1");

        // As if pub/sub lost it: the script runs but publishes on a channel nobody listens to.
        await PublishUnannouncedAsync(redis, "t", "m2", keep: 100);
        await b.Hub.PublishTextAsync("t", "m3");

        List<JsonElement> frames = await Frames.UntilTextAsync(peer, "m3");
        Assert.Equal(["m1", "m2", "m3"], Frames.AssertContinuous(subscribed.GetProperty("epoch").GetString()!, 0, frames));
        Assert.DoesNotContain(frames, f => f.GetProperty("op").GetString() == "reset");
        Assert.Equal(2, a.Backplane.Counters.Fetched); // m2, and m3 that the read filling the gap already sees
    }

    [Fact]
    public async Task A_missed_message_the_stream_does_not_keep_is_reported_with_reset_never_skipped_silently()
    {
        await using RedisServer redis = await RedisServer.StartAsync();
        await using Node a = await Node.StartAsync(redis, "a");
        await using Node b = await Node.StartAsync(redis, "b");
        (TopicPeer peer, JsonElement subscribed) = await a.SubscribeV1Async("t");
        await using TopicPeer _ = peer;
        await b.Hub.PublishTextAsync("t", "m1");
        await PublishUnannouncedAsync(redis, "t", "m2", keep: 0);
        await b.Hub.PublishTextAsync("t", "m3");

        List<JsonElement> frames = await Frames.UntilTextAsync(peer, "m3");
        Assert.Equal(["m1", "m3"], Frames.AssertContinuous(subscribed.GetProperty("epoch").GetString()!, 0, frames));
        JsonElement reset = Assert.Single(frames, f => f.GetProperty("op").GetString() == "reset");
        Assert.Equal(2, reset.GetProperty("offset").GetInt64());
        Assert.Equal(1, a.Backplane.Counters.Resets);
    }

    // Runs the publish script exactly as a node does, except that its pub/sub message goes nowhere.
    private static async Task PublishUnannouncedAsync(RedisServer redis, string topic, string text, int keep)
    {
        await using ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        var keys = new RedisKeys("test:", topic);
        await connection.GetDatabase().ScriptEvaluateAsync(RedisScripts.Publish, [keys.Meta, keys.Stream],
            ["unused", 60_000, "nowhere", "t", text, keep, 0]);
    }
}
