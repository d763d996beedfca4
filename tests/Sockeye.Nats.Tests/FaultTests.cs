using System.Text.Json;
using Sockeye.Tests.Topics;
using Sockeye.Topics;

namespace Sockeye.Nats.Tests;

public class FaultTests
{
    [Fact]
    public async Task Nats_killed_and_restarted_with_its_store_local_delivery_goes_on_then_the_stream_continues_without_a_silent_gap()
    {
        await using NatsServer nats = await NatsServer.StartAsync();
        var history = new TopicOptions { HistorySize = 100 };
        await using var nodes = await TwoSubscribedNodes<Node>.StartAsync(name => Node.StartAsync(nats, name, history), messages: 5);
        Node a = nodes.A, b = nodes.B;
        await nodes.KillServerAsync(nats);

        // Local delivery goes on, announced as a new (local) stream; a topic without local subscribers is refused.
        (_, List<JsonElement> duringOnA) = await nodes.PublishLocallyAsync();
        Assert.Equal(1, a.Backplane.Counters.LocalPublishes);
        Assert.Equal(1, a.Backplane.Counters.Outages);
        TopicException refused = await Assert.ThrowsAsync<TopicException>(async () => await a.Hub.PublishTextAsync("nobody-here", "x"));
        Assert.Equal("unavailable", refused.Code);

        // Back with its store: the same epoch continues. Both nodes reconnect by themselves.
        await nats.RestartAsync();
        await nodes.BothReconnectedAsync();
        await b.Hub.PublishTextAsync("t", "after");
        List<JsonElement> afterOnA = await Frames.UntilTextAsync(nodes.OnA, "after");
        List<JsonElement> afterOnB = await Frames.UntilTextAsync(nodes.OnB, "after");

        string epoch = nodes.EpochA;
        Assert.Equal(["m1", "m2", "m3", "m4", "m5", "during", "after"], Frames.AssertContinuous(epoch, 0, [.. nodes.BeforeOnA, .. duringOnA, .. afterOnA]));
        Assert.Equal(["m1", "m2", "m3", "m4", "m5", "after"], Frames.AssertContinuous(nodes.EpochB, 0, [.. nodes.BeforeOnB, .. afterOnB]));
        Assert.DoesNotContain(afterOnB, f => f.GetProperty("op").GetString() == "reset"); // b missed nothing
        JsonElement back = afterOnA.Single(f => f.GetProperty("op").GetString() == "reset"); // a leaves its local epoch
        Assert.Equal(epoch, back.GetProperty("epoch").GetString());
        Assert.Equal(5, back.GetProperty("offset").GetInt64());
        Assert.Equal(1, a.Backplane.Counters.Outages); // one outage, however many reconnect attempts
    }

    [Fact]
    public async Task Nats_restarted_without_its_store_starts_a_new_epoch_and_every_node_is_reset()
    {
        await using NatsServer nats = await NatsServer.StartAsync();
        var history = new TopicOptions { HistorySize = 100 };
        await using var nodes = await TwoSubscribedNodes<Node>.StartAsync(name => Node.StartAsync(nats, name, history), messages: 1);
        Node a = nodes.A, b = nodes.B;
        StreamPosition before = nodes.Last;

        await nodes.KillServerAsync(nats);
        await nats.RestartAsync(wipeStore: true); // the stream and buckets are gone: the nodes create them again
        await nodes.BothReconnectedAsync();
        StreamPosition after = await b.Hub.PublishTextAsync("t", "after");
        Assert.NotEqual(before.Epoch, after.Epoch);

        List<JsonElement> afterOnA = await Frames.UntilTextAsync(nodes.OnA, "after");
        List<JsonElement> afterOnB = await Frames.UntilTextAsync(nodes.OnB, "after");
        Assert.Equal(["m1", "after"], Frames.AssertContinuous(nodes.EpochA, 0, [.. nodes.BeforeOnA, .. afterOnA]));
        Assert.Equal(["m1", "after"], Frames.AssertContinuous(nodes.EpochB, 0, [.. nodes.BeforeOnB, .. afterOnB]));
        await using TopicPeer old = TopicPeer.Plain();
        Assert.False((await a.Hub.SubscribeAsync(old.Server, "t", before)).Recovered);
    }

    [Fact]
    public async Task A_node_whose_connection_is_cut_while_others_publish_loses_nothing()
    {
        await using NatsServer nats = await NatsServer.StartAsync();
        await using var proxy = new TcpProxy(nats.Port);
        var history = new TopicOptions { HistorySize = 1000 };
        await using Node a = await Node.StartAsync(proxy.Url, "a", history);
        await using Node b = await Node.StartAsync(nats, "b", history);
        (TopicPeer onA, JsonElement subscribed) = await a.SubscribeV1Async("t");
        await using TopicPeer _ = onA;
        await b.Hub.PublishTextAsync("t", "m0");
        await Frames.UntilTextAsync(onA, "m0");

        await proxy.CutAsync();
        await NatsServer.WaitUntilAsync(() => !a.Backplane.IsConnected, "a sees its connection gone");
        for (int i = 1; i <= 200; i++)
        {
            await b.Hub.PublishTextAsync("t", $"m{i}");
        }

        proxy.Restore(); // a reconnects and must fetch the 200 it missed from the stream
        List<JsonElement> frames = await Frames.UntilTextAsync(onA, "m200");
        Assert.Equal(Enumerable.Range(1, 200).Select(i => $"m{i}"), Frames.AssertContinuous(subscribed.GetProperty("epoch").GetString()!, 1, frames));
        Assert.True(proxy.Accepted >= 2, "a reconnected through the proxy");
        Assert.Equal(0, a.Backplane.Counters.Resets);
    }

    [Fact]
    public async Task A_node_started_before_nats_delivers_locally_then_joins_the_stream_with_a_reset()
    {
        await using NatsServer nats = await NatsServer.StartAsync();
        await nats.KillAsync();
        await using Node a = await Node.StartAsync(nats, "a", new TopicOptions { HistorySize = 10 });
        Assert.False(a.Backplane.IsConnected);
        Assert.Equal(1, a.Backplane.Counters.Outages);
        (TopicPeer peer, JsonElement subscribed) = await a.SubscribeV1Async("t");
        await using TopicPeer _ = peer;
        StreamPosition local = await a.Hub.PublishTextAsync("t", "alone");
        Assert.StartsWith("local-", local.Epoch, StringComparison.Ordinal);
        List<JsonElement> frames = await Frames.UntilTextAsync(peer, "alone");

        await nats.RestartAsync();
        await NatsServer.WaitUntilAsync(() => a.Backplane.IsConnected, "a connects by itself");
        StreamPosition shared = await a.Hub.PublishTextAsync("t", "shared");
        Assert.DoesNotContain("local-", shared.Epoch, StringComparison.Ordinal);
        frames.AddRange(await Frames.UntilTextAsync(peer, "shared"));
        Assert.Equal(["alone", "shared"], Frames.AssertContinuous(subscribed.GetProperty("epoch").GetString()!, 0, frames));
        Assert.Equal(shared.Epoch, frames.Last(f => f.GetProperty("op").GetString() == "reset").GetProperty("epoch").GetString());
        Assert.Equal(1, a.Backplane.Counters.Outages);
    }
}
