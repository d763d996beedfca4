using System.Text.Json;
using Sockeye.Tests.Topics;
using Sockeye.Topics;
using StreamPosition = Sockeye.Topics.StreamPosition;

namespace Sockeye.ScaleOut.Tests;

/// <summary>
/// Scale-out scenarios that hold for every backplane in the same words: in-process nodes (a hub each, on its own
/// backplane) on one real server. Each test project's <c>ScaleOutTests</c> derives from this and adds its own.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1052", Justification = "xunit runs the inherited facts on each backplane's derived class.")]
public abstract class ScaleOutScenarios
{
    /// <summary>Starts the backplane's server.</summary>
    private protected abstract Task<BackingServer> StartServerAsync();

    /// <summary>A node named <paramref name="name"/> on <paramref name="server"/>, with <paramref name="topics"/> (null: the defaults).</summary>
    private protected abstract Task<IScaleOutNode> StartNodeAsync(BackingServer server, string name, TopicOptions? topics = null);

    /// <summary>A node whose store keeps only the last message of each topic (by default: as <see cref="StartNodeAsync"/>).</summary>
    private protected virtual Task<IScaleOutNode> StartNodeKeepingLastAsync(BackingServer server, string name) => StartNodeAsync(server, name);

    /// <summary>
    /// <paramref name="publisher"/> (or the test, as a node would) publishes <paramref name="text"/> on <c>t</c>: it
    /// gets its position in the store but never reaches <paramref name="receiver"/> on its live path; the store keeps it
    /// when <paramref name="kept"/>, else the next message pushes it out.
    /// </summary>
    private protected abstract Task PublishMissedAsync(BackingServer server, IScaleOutNode receiver, IScaleOutNode publisher, string text, bool kept);

    /// <summary>The backplane's count of messages fetched from the stream after <c>m2</c> of the fetch scenario was missed.</summary>
    private protected abstract void AssertFetchedInPlace(IScaleOutNode receiver);

    [Fact]
    public async Task Subscribers_on_every_node_get_every_message_from_publishers_on_every_node_in_one_order()
    {
        await using BackingServer server = await StartServerAsync();
        var nodes = new List<IScaleOutNode>();
        var peers = new List<TopicPeer>();
        try
        {
            foreach (string name in new[] { "a", "b", "c" })
            {
                IScaleOutNode node = await StartNodeAsync(server, name);
                nodes.Add(node);
                for (int i = 0; i < 2; i++)
                {
                    peers.Add((await node.SubscribeV1Async("room")).Peer);
                }
            }

            const int PerNode = 100;
            await Task.WhenAll(nodes.Select((node, n) => Task.Run(async () =>
            {
                for (int i = 0; i < PerNode; i++)
                {
                    await node.Hub.PublishTextAsync("room", $"{n}-{i:000}");
                }
            })));

            List<string>? first = null;
            foreach (TopicPeer peer in peers)
            {
                var texts = new List<string>();
                string? epoch = null;
                for (int i = 1; i <= 3 * PerNode; i++)
                {
                    JsonElement msg = await peer.ExpectOpAsync("msg");
                    epoch ??= msg.GetProperty("epoch").GetString();
                    Assert.Equal(epoch, msg.GetProperty("epoch").GetString());
                    Assert.Equal(i, msg.GetProperty("offset").GetInt64()); // 1..300: none lost, none twice
                    texts.Add(msg.GetProperty("text").GetString()!);
                }

                first ??= texts;
                Assert.Equal(first, texts); // the same order on every node
                for (int n = 0; n < 3; n++)
                {
                    Assert.Equal(Enumerable.Range(0, PerNode).Select(i => $"{n}-{i:000}"), texts.Where(t => t.StartsWith($"{n}-", StringComparison.Ordinal)));
                }
            }

            // Nothing after the 300th: the next message anyone gets is this marker.
            await nodes[0].Hub.PublishTextAsync("room", "end");
            foreach (TopicPeer peer in peers)
            {
                Assert.Equal("end", (await peer.ExpectOpAsync("msg")).GetProperty("text").GetString());
            }

            Assert.All(nodes, node => Assert.Equal(0, node.Resets));
        }
        finally
        {
            foreach (TopicPeer peer in peers)
            {
                await peer.DisposeAsync();
            }

            foreach (IScaleOutNode node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_client_resuming_against_another_node_gets_exactly_the_missed_messages()
    {
        await using BackingServer server = await StartServerAsync();
        var history = new TopicOptions { HistorySize = 100 };
        await using IScaleOutNode a = await StartNodeAsync(server, "a", history);
        await using IScaleOutNode b = await StartNodeAsync(server, "b", history);
        await using IScaleOutNode c = await StartNodeAsync(server, "c", history);

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

        // Other topics interleave (in NATS, in the same stream): the resume finds this topic's messages among them.
        for (int i = 11; i <= 20; i++)
        {
            await c.Hub.PublishTextAsync("t", $"m{i}");
            await c.Hub.PublishTextAsync("other", $"o{i}");
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

        // Another epoch, a position ahead, or more missed than the topic's history: not recovered, live only.
        await using TopicPeer stranger = TopicPeer.Plain();
        Assert.False((await c.Hub.SubscribeAsync(stranger.Server, "t", new StreamPosition("other", 3))).Recovered);
        await using TopicPeer ahead = TopicPeer.Plain();
        Assert.False((await c.Hub.SubscribeAsync(ahead.Server, "t", new StreamPosition(seen.Epoch, 99))).Recovered);
    }

    [Fact]
    public async Task Resume_past_the_history_age_is_not_recovered()
    {
        await using BackingServer server = await StartServerAsync();
        TimeSpan age = TimeSpan.FromSeconds(1);
        await using IScaleOutNode a = await StartNodeAsync(server, "a", new TopicOptions { HistoryAge = age });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        StreamPosition first = await a.Hub.PublishTextAsync("t", "old");
        await using TopicPeer fresh = TopicPeer.Plain();
        bool recovered = (await a.Hub.SubscribeAsync(fresh.Server, "t", new StreamPosition(first.Epoch, 0))).Recovered;

        // Within the age (by a clock started before the publish, so never shorter than the store's), "old" is history.
        // A machine too busy to resume within it cannot tell, and only the second half holds then.
        if (clock.Elapsed < age - TimeSpan.FromMilliseconds(50))
        {
            Assert.True(recovered);
            Assert.Equal("old", await fresh.ReceiveTextAsync());
        }

        // Past the age, "old" is no longer history: resuming from before it must say so.
        await BackingServer.WaitUntilAsync(async () =>
        {
            await using TopicPeer probe = TopicPeer.Plain();
            return !(await a.Hub.SubscribeAsync(probe.Server, "t", new StreamPosition(first.Epoch, 0))).Recovered;
        }, "the message ages out of the history");
    }

    [Fact]
    public async Task A_message_missed_on_delivery_is_fetched_from_the_stream_in_its_place()
    {
        await using BackingServer server = await StartServerAsync();
        var history = new TopicOptions { HistorySize = 100 };
        await using IScaleOutNode a = await StartNodeAsync(server, "a", history);
        await using IScaleOutNode b = await StartNodeAsync(server, "b", history);
        (string epoch, List<JsonElement> frames) = await MissSecondOfThreeAsync(server, a, b, kept: true);

        Assert.Equal(["m1", "m2", "m3"], Frames.AssertContinuous(epoch, 0, frames));
        Assert.DoesNotContain(frames, f => f.GetProperty("op").GetString() == "reset");
        AssertFetchedInPlace(a);
        Assert.Equal(0, a.Resets);
    }

    [Fact]
    public async Task A_missed_message_the_stream_does_not_keep_is_reported_with_reset_never_skipped_silently()
    {
        await using BackingServer server = await StartServerAsync();
        await using IScaleOutNode a = await StartNodeKeepingLastAsync(server, "a");
        await using IScaleOutNode b = await StartNodeKeepingLastAsync(server, "b");
        (string epoch, List<JsonElement> frames) = await MissSecondOfThreeAsync(server, a, b, kept: false);

        Assert.Equal(["m1", "m3"], Frames.AssertContinuous(epoch, 0, frames));
        JsonElement reset = Assert.Single(frames, f => f.GetProperty("op").GetString() == "reset");
        Assert.Equal(2, reset.GetProperty("offset").GetInt64());
        Assert.Equal(1, a.Resets);
    }

    // A subscriber of t on a; b publishes m1, m2 (missed by a on its live path, kept or not) and m3. Returns the epoch
    // the subscriber started in and every frame it got up to m3.
    private async Task<(string Epoch, List<JsonElement> Frames)> MissSecondOfThreeAsync(BackingServer server, IScaleOutNode a, IScaleOutNode b, bool kept)
    {
        (TopicPeer peer, JsonElement subscribed) = await a.SubscribeV1Async("t");
        await using TopicPeer _ = peer;
        await b.Hub.PublishTextAsync("t", "m1");
        List<JsonElement> frames = await Frames.UntilTextAsync(peer, "m1");
        await PublishMissedAsync(server, a, b, "m2", kept);
        await b.Hub.PublishTextAsync("t", "m3");
        frames.AddRange(await Frames.UntilTextAsync(peer, "m3"));
        return (subscribed.GetProperty("epoch").GetString()!, frames);
    }
}
