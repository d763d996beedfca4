using System.Text.Json;
using Sockeye.Tests.Topics;
using Sockeye.Topics;

namespace Sockeye.Nats.Tests;

public class ScaleOutTests : ScaleOutScenarios
{
    private protected override async Task<BackingServer> StartServerAsync() => await NatsServer.StartAsync();

    private protected override async Task<IScaleOutNode> StartNodeAsync(BackingServer server, string name, TopicOptions? topics = null) =>
        await Node.StartAsync((NatsServer)server, name, topics);

    // The stream keeps one message per topic: the next one pushes the missed one out.
    private protected override async Task<IScaleOutNode> StartNodeKeepingLastAsync(BackingServer server, string name) =>
        await Node.StartAsync((NatsServer)server, name, historyPerTopic: 1);

    // Stored, but its delivery dropped on the receiver (as by the client for a slow consumer).
    private protected override async Task PublishMissedAsync(BackingServer server, IScaleOutNode receiver, IScaleOutNode publisher, string text, bool kept)
    {
        ((Node)receiver).Backplane.DropDeliveries = 1;
        await publisher.Hub.PublishTextAsync("t", text);
    }

    private protected override void AssertFetchedInPlace(IScaleOutNode receiver) => Assert.True(((Node)receiver).Backplane.Counters.Fetched >= 1);

    [Fact]
    public async Task A_publish_from_a_stale_position_conflicts_and_takes_the_next_offset()
    {
        await using NatsServer nats = await NatsServer.StartAsync();
        await using Node a = await Node.StartAsync(nats, "a");
        await using Node b = await Node.StartAsync(nats, "b");
        StreamPosition first = await a.Hub.PublishTextAsync("t", "m1");
        Assert.Equal(new StreamPosition(first.Epoch, 2), await b.Hub.PublishTextAsync("t", "m2"));

        // a last appended m1: its publish expects that to be the topic's last message, is refused, reads again.
        Assert.Equal(new StreamPosition(first.Epoch, 3), await a.Hub.PublishTextAsync("t", "m3"));
        Assert.Equal(1, a.Backplane.Counters.Conflicts);
        Assert.Equal(0, b.Backplane.Counters.Conflicts);
    }

    [Fact]
    public async Task Resume_from_before_the_kept_history_is_not_recovered()
    {
        await using NatsServer nats = await NatsServer.StartAsync();
        // The stream keeps 5 per topic; the topic's own history would allow 100.
        await using Node a = await Node.StartAsync(nats, "a", new TopicOptions { HistorySize = 100 }, historyPerTopic: 5);
        StreamPosition first = await a.Hub.PublishTextAsync("t", "m1");
        for (int i = 2; i <= 5; i++)
        {
            await a.Hub.PublishTextAsync("t", $"m{i}");
        }

        await using (TopicPeer fresh = TopicPeer.Plain())
        {
            Assert.True((await a.Hub.SubscribeAsync(fresh.Server, "t", new StreamPosition(first.Epoch, 0))).Recovered);
            Assert.Equal("m1", await fresh.ReceiveTextAsync());
        }

        await a.Hub.PublishTextAsync("t", "m6"); // m1 leaves the stream
        await using TopicPeer late = TopicPeer.Plain();
        Assert.False((await a.Hub.SubscribeAsync(late.Server, "t", new StreamPosition(first.Epoch, 0))).Recovered);
        await using TopicPeer recent = TopicPeer.Plain();
        Assert.True((await a.Hub.SubscribeAsync(recent.Server, "t", new StreamPosition(first.Epoch, 1))).Recovered);
        Assert.Equal("m2", await recent.ReceiveTextAsync());
    }

    [Fact]
    public async Task A_purged_topic_starts_a_new_epoch_and_its_subscribers_are_reset()
    {
        await using NatsServer nats = await NatsServer.StartAsync();
        var history = new TopicOptions { HistorySize = 100 };
        await using Node a = await Node.StartAsync(nats, "a", history);
        await using Node b = await Node.StartAsync(nats, "b", history);
        await using Stream stream = Stream.Open(nats);
        (TopicPeer peer, JsonElement subscribed) = await a.SubscribeV1Async("t");
        await using TopicPeer _ = peer;
        StreamPosition before = await b.Hub.PublishTextAsync("t", "m1");
        await stream.PurgeTopicAsync("t");
        StreamPosition after = await b.Hub.PublishTextAsync("t", "m2");

        Assert.NotEqual(before.Epoch, after.Epoch); // continuity lost: a new epoch, offsets from 1
        Assert.Equal(1, after.Offset);
        List<JsonElement> frames = await Frames.UntilTextAsync(peer, "m2");
        Assert.Equal(["m1", "m2"], Frames.AssertContinuous(subscribed.GetProperty("epoch").GetString()!, 0, frames));
        Assert.Equal(after.Epoch, frames.Single(f => f.GetProperty("op").GetString() == "reset").GetProperty("epoch").GetString());
        await using TopicPeer old = TopicPeer.Plain();
        Assert.False((await b.Hub.SubscribeAsync(old.Server, "t", before)).Recovered);
    }

    [Fact]
    public async Task A_single_message_cannot_be_deleted_so_no_offset_is_ever_handed_out_twice()
    {
        await using NatsServer nats = await NatsServer.StartAsync();
        await using Node a = await Node.StartAsync(nats, "a");
        await using Stream stream = Stream.Open(nats);
        await a.Hub.PublishTextAsync("t", "m1");
        StreamPosition second = await a.Hub.PublishTextAsync("t", "m2");

        // Deleting the topic's last message would make the next publish reuse offset 2: the stream refuses it.
        await Assert.ThrowsAsync<NATS.Client.JetStream.NatsJSApiException>(async () => await stream.DeleteMessageAsync(await stream.LastSeqAsync("t")));
        Assert.Equal(new StreamPosition(second.Epoch, 3), await a.Hub.PublishTextAsync("t", "m3"));
    }

    [Fact]
    public async Task Hostile_topic_names_each_get_their_own_subject_and_only_their_own_messages()
    {
        // Subject syntax (. * > whitespace), the escape character itself, Unicode, and names that would collide under a
        // careless encoding ("_41" and "A", "a.b" and "a" + "b").
        string[] topics = ["a.b", "a", "b", "*", ">", "a.*", "a.>", "with space", "tab\u00a0nbsp", "ünïcødé 🎉", "_41", "A", "x_y", "x.y", "$JS.API.STREAM.DELETE.x", "..", new string('z', 256)];
        await using NatsServer nats = await NatsServer.StartAsync();
        var history = new TopicOptions { HistorySize = 10 };
        await using Node a = await Node.StartAsync(nats, "a", history);
        await using Node b = await Node.StartAsync(nats, "b", history);
        var peers = new List<TopicPeer>();
        try
        {
            foreach (string topic in topics)
            {
                peers.Add((await a.SubscribeV1Async(topic)).Peer);
            }

            foreach (string topic in topics)
            {
                Assert.Equal(1, (await b.Hub.PublishTextAsync(topic, topic)).Offset); // its own stream: offset 1 each
            }

            for (int i = 0; i < topics.Length; i++)
            {
                JsonElement msg = await peers[i].ExpectOpAsync("msg");
                Assert.Equal(topics[i], msg.GetProperty("topic").GetString());
                Assert.Equal(topics[i], msg.GetProperty("text").GetString());
            }

            // And resumable by name from another node.
            await using TopicPeer resumed = TopicPeer.Plain();
            StreamPosition start = (await a.Hub.Backplane.ReadAsync("*", null, history, [], CancellationToken.None)).Current;
            Assert.True((await b.Hub.SubscribeAsync(resumed.Server, "*", start with { Offset = 0 })).Recovered);
            Assert.Equal("*", await resumed.ReceiveTextAsync());
        }
        finally
        {
            foreach (TopicPeer peer in peers)
            {
                await peer.DisposeAsync();
            }
        }
    }

    [Fact]
    public void The_subject_encoding_is_one_safe_token_and_injective()
    {
        string[] names = ["a.b", "a", "*", ">", "a b", "_", "_5F", "ünï", "🎉", "-", "A", "_41"];
        var tokens = names.Select(NatsSubjects.Encode).ToList();
        Assert.Equal(names.Length, tokens.Distinct(StringComparer.Ordinal).Count());
        Assert.All(tokens, token => Assert.Matches("^[A-Za-z0-9_-]+$", token));
        Assert.Equal(names, tokens.Select(NatsSubjects.Decode));
    }

    [Fact]
    public async Task Malformed_messages_on_a_delivery_subject_are_logged_and_ignored_and_delivery_goes_on()
    {
        await using NatsServer nats = await NatsServer.StartAsync();
        await using Node a = await Node.StartAsync(nats, "a");
        await using Stream stream = Stream.Open(nats);
        (TopicPeer peer, JsonElement subscribed) = await a.SubscribeV1Async("t");
        await using TopicPeer _ = peer;
        string subject = new TopicSubjects(new NatsLayout("test"), "t").Delivery;
        await stream.PublishRawAsync(subject, [1, 2, 3]); // no headers at all
        await stream.PublishRawAsync(subject, [4], new NATS.Client.Core.NatsHeaders { ["Sockeye-Epoch"] = "x", ["Sockeye-Offset"] = "-7", ["Nats-Sequence"] = "1" });
        await stream.PublishRawAsync(subject, [5], new NATS.Client.Core.NatsHeaders { ["Sockeye-Presence"] = "j" }); // no member
        await stream.SettleAsync(); // the three reach the node before m1 does
        await a.Hub.PublishTextAsync("t", "m1");

        List<JsonElement> frames = await Frames.UntilTextAsync(peer, "m1");
        Assert.Equal(["m1"], Frames.AssertContinuous(subscribed.GetProperty("epoch").GetString()!, 0, frames));
        int Malformed() => a.Log.Lines.Count(line => line.Contains("malformed message on 't' ignored", StringComparison.Ordinal));
        long deadline = Environment.TickCount64 + 15_000;
        while (Malformed() < 3 && Environment.TickCount64 < deadline)
        {
            await Task.Delay(10); // polling the log with a deadline: a line is written by the subscription's own task
        }

        Assert.Equal(3, Malformed());
        Assert.Equal(0, a.Backplane.Counters.Resets);
    }
}
