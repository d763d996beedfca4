using System.Text;
using Sockeye.Topics;

namespace Sockeye.Tests.Topics;

public class TopicHubTests
{
    private static TopicHub Hub(TopicOptions? topics = null) => new(new TopicHubOptions { Topics = topics ?? TopicOptions.Default });

    private static ReadOnlyMemory<byte> Utf8(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task Every_subscriber_gets_every_message_in_publication_order()
    {
        await using TopicHub hub = Hub();
        await using TopicPeer a = TopicPeer.Plain();
        await using TopicPeer b = TopicPeer.Plain();
        await hub.SubscribeAsync(a.Server, "t");
        await hub.SubscribeAsync(b.Server, "t");
        for (int i = 1; i <= 200; i++)
        {
            StreamPosition position = await hub.PublishTextAsync("t", $"m{i}");
            Assert.Equal(i, position.Offset);
        }

        foreach (TopicPeer peer in new[] { a, b })
        {
            for (int i = 1; i <= 200; i++)
            {
                Assert.Equal($"m{i}", await peer.ReceiveTextAsync());
            }
        }

        Assert.Equal(200, hub.Counters.Published);
    }

    [Fact]
    public async Task A_topic_not_subscribed_to_is_not_delivered_and_unsubscribe_stops_delivery()
    {
        await using TopicHub hub = Hub();
        await using TopicPeer a = TopicPeer.Plain();
        await hub.SubscribeAsync(a.Server, "t");
        await hub.PublishTextAsync("other", "not for a");
        await hub.PublishTextAsync("t", "one");
        Assert.Equal("one", await a.ReceiveTextAsync());
        Assert.True(await hub.UnsubscribeAsync(a.Server, "t"));
        Assert.False(await hub.UnsubscribeAsync(a.Server, "t"));
        await hub.PublishTextAsync("t", "after");
        Assert.Equal(0, hub.SubscriberCount("t"));
        // The marker proves nothing else was queued before it.
        await hub.SubscribeAsync(a.Server, "marker");
        await hub.PublishTextAsync("marker", "marker");
        Assert.Equal("marker", await a.ReceiveTextAsync());
    }

    [Fact]
    public async Task Resume_delivers_exactly_the_missed_messages_then_live_ones()
    {
        await using TopicHub hub = Hub(new TopicOptions { HistorySize = 100 });
        StreamPosition last = default;
        for (int i = 1; i <= 10; i++)
        {
            last = await hub.PublishTextAsync("t", $"m{i}");
        }

        await using TopicPeer peer = TopicPeer.Plain();
        HistoryRead read = await hub.SubscribeAsync(peer.Server, "t", new StreamPosition(last.Epoch, 6));
        Assert.True(read.Recovered);
        Assert.Equal(10, read.Current.Offset);
        await hub.PublishTextAsync("t", "m11");
        for (int i = 7; i <= 11; i++)
        {
            Assert.Equal($"m{i}", await peer.ReceiveTextAsync());
        }
    }

    [Fact]
    public async Task The_oldest_kept_position_resumes_and_one_older_does_not()
    {
        await using TopicHub hub = Hub(new TopicOptions { HistorySize = 5 });
        StreamPosition last = default;
        for (int i = 1; i <= 10; i++)
        {
            last = await hub.PublishTextAsync("t", $"m{i}");
        }

        // Kept: 6..10. Resuming after 5 needs 6.. (all kept); after 4 needs 5 (gone).
        await using TopicPeer ok = TopicPeer.Plain();
        Assert.True((await hub.SubscribeAsync(ok.Server, "t", new StreamPosition(last.Epoch, 5))).Recovered);
        Assert.Equal("m6", await ok.ReceiveTextAsync());
        await using TopicPeer old = TopicPeer.Plain();
        HistoryRead read = await hub.SubscribeAsync(old.Server, "t", new StreamPosition(last.Epoch, 4));
        Assert.False(read.Recovered);
        await hub.PublishTextAsync("t", "m11");
        Assert.Equal("m11", await old.ReceiveTextAsync()); // live only, no partial history
    }

    [Fact]
    public async Task A_position_from_another_epoch_or_ahead_of_the_stream_is_not_recovered()
    {
        await using TopicHub hub = Hub(new TopicOptions { HistorySize = 10 });
        StreamPosition last = await hub.PublishTextAsync("t", "m1");
        await using TopicPeer other = TopicPeer.Plain();
        Assert.False((await hub.SubscribeAsync(other.Server, "t", new StreamPosition(last.Epoch + "x", 0))).Recovered);
        await using TopicPeer ahead = TopicPeer.Plain();
        Assert.False((await hub.SubscribeAsync(ahead.Server, "t", new StreamPosition(last.Epoch, 2))).Recovered);
        await using TopicPeer current = TopicPeer.Plain();
        Assert.True((await hub.SubscribeAsync(current.Server, "t", last)).Recovered);
    }

    [Fact]
    public async Task A_new_hub_is_a_new_epoch()
    {
        StreamPosition first;
        await using (TopicHub hub = Hub(new TopicOptions { HistorySize = 10 }))
        {
            first = await hub.PublishTextAsync("t", "m1");
        }

        await using TopicHub restarted = Hub(new TopicOptions { HistorySize = 10 });
        StreamPosition again = await restarted.PublishTextAsync("t", "m1");
        Assert.Equal(1, again.Offset);
        Assert.NotEqual(first.Epoch, again.Epoch);
        await using TopicPeer peer = TopicPeer.Plain();
        Assert.False((await restarted.SubscribeAsync(peer.Server, "t", first)).Recovered);
    }

    [Fact]
    public async Task Resume_racing_concurrent_publishes_has_no_gap_and_no_duplicate()
    {
        // Queue limits above anything the publisher can burst: this test is about order, not the slow-subscriber policy.
        await using TopicHub hub = Hub(new TopicOptions { HistorySize = 100_000, MaxQueuedMessages = 10_000_000, MaxQueuedBytes = 1L << 40 });
        StreamPosition start = await hub.PublishTextAsync("t", "1");
        for (int round = 0; round < 20; round++)
        {
            using var stop = new CancellationTokenSource();
            Task publisher = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    StreamPosition p = await hub.PublishTextAsync("t", "x");
                    if (p.Offset % 64 == 0)
                    {
                        await Task.Yield();
                    }
                }
            });
            await using TopicPeer peer = TopicPeer.Plain(maxSendBuffer: 64 * 1024 * 1024);
            long since = start.Offset + round;
            HistoryRead read = await hub.SubscribeAsync(peer.Server, "t", new StreamPosition(start.Epoch, since));
            Assert.True(read.Recovered);
            await stop.CancelAsync();
            // A marker unique to this round: earlier rounds' markers are in the replayed range too.
            string marker = $"end {round}";
            StreamPosition end = await hub.PublishTextAsync("t", marker);
            await publisher;
            // Every offset after `since` up to the marker, each once: count the frames until the marker.
            long expected = end.Offset - since;
            long received = 0;
            var seen = new List<string>();
            while (await peer.ReceiveTextAsync() is { } text)
            {
                received++;
                seen.Add(text);
                if (text == marker)
                {
                    break;
                }
            }

            Assert.True(expected == received, $"round {round}: resumed after {since} (stream at {read.Current.Offset}), marker at {end.Offset}: {received} frames, expected {expected}; last: {string.Join(',', seen.TakeLast(4))}");
        }
    }

    [Fact]
    public async Task A_subscriber_that_never_reads_is_cut_off_and_the_others_and_the_publisher_go_on()
    {
        await using TopicHub hub = Hub(new TopicOptions { MaxQueuedMessages = 1000, MaxQueuedBytes = 1 << 30 });
        await using TopicPeer stuck = TopicPeer.Plain();
        await using TopicPeer reader = TopicPeer.Plain();
        await hub.SubscribeAsync(stuck.Server, "t");
        await hub.SubscribeAsync(reader.Server, "t");
        byte[] payload = new byte[1024];
        // Bursts of 500 (half the queue limit) with the reader catching up in between: the reader never has more
        // than 500 queued, the stuck subscriber accumulates every burst until its queue overflows.
        for (int burst = 0; burst < 6; burst++)
        {
            for (int i = 0; i < 500; i++)
            {
                // Never waits on the stuck subscriber: each publish completes synchronously.
                ValueTask<StreamPosition> publish = hub.PublishAsync("t", MessageType.Binary, payload);
                Assert.True(publish.IsCompletedSuccessfully);
            }

            for (int i = 0; i < 500; i++)
            {
                Assert.NotNull(await reader.ReceiveTextAsync());
            }
        }

        await stuck.Server.Completion.WaitAsync(TopicPeer.Timeout);
        // It reads nothing, so the 1008 close frame cannot reach it: after the close timeout it is cut (1006).
        Assert.Equal("subscriber too slow", stuck.Server.CloseReason);
        Assert.Equal(1, hub.Counters.SlowSubscribersClosed);
        // The hub detaches a cut subscriber once its connection has ended, on its own continuation: wait for that.
        await WaitUntil(() => hub.SubscriberCount("t") == 1);
        Assert.Equal(1, hub.SubscriberCount("t"));
    }

    [Fact]
    public async Task Drop_oldest_tells_a_slow_v1_subscriber_which_offsets_it_lost_and_keeps_it_open()
    {
        await using TopicHub hub = Hub(new TopicOptions { MaxQueuedMessages = 10, MaxQueuedBytes = 1 << 30, SlowSubscriberPolicy = SlowSubscriberPolicy.DropOldest });
        await using TopicPeer slow = TopicPeer.V1();
        Task session = hub.HandleAsync(slow.Server);
        await slow.ExpectOpAsync("hello");
        await slow.SendJsonAsync("""{"op":"sub","id":1,"topic":"t"}""");
        await slow.ExpectOpAsync("subscribed");
        byte[] payload = new byte[4096];
        long last = 0;
        for (int i = 0; i < 500; i++)
        {
            last = (await hub.PublishAsync("t", MessageType.Binary, payload)).Offset;
        }

        // Now read everything: the offsets seen plus the dropped ranges must cover 1..last exactly once, in order.
        long next = 1;
        bool sawGap = false;
        while (next <= last)
        {
            JsonElementAssert(await slow.ReceiveJsonAsync(), out string op, out System.Text.Json.JsonElement frame);
            if (op == "dropped")
            {
                Assert.Equal(next, frame.GetProperty("from").GetInt64());
                next = frame.GetProperty("to").GetInt64() + 1;
                sawGap = true;
            }
            else
            {
                Assert.Equal("msg", op);
                Assert.Equal(next, frame.GetProperty("offset").GetInt64());
                next++;
            }
        }

        Assert.True(sawGap);
        Assert.True(hub.Counters.Dropped > 0);
        Assert.False(slow.Server.IsClosing);
        GC.KeepAlive(session);
    }

    [Fact]
    public async Task Under_the_wait_policy_the_publisher_waits_for_a_slow_subscriber_and_nothing_is_lost()
    {
        await using TopicHub hub = Hub(new TopicOptions { MaxQueuedMessages = 8, MaxQueuedBytes = 1 << 30, SlowSubscriberPolicy = SlowSubscriberPolicy.Wait });
        await using TopicPeer slow = TopicPeer.Plain();
        await hub.SubscribeAsync(slow.Server, "t");
        byte[] payload = new byte[8192];
        // The pipe (64 KiB) and the queue (8) fill; then a publish must wait.
        Task<int> publishing = Task.Run(async () =>
        {
            for (int i = 0; i < 200; i++)
            {
                await hub.PublishAsync("t", MessageType.Binary, payload);
            }

            return 200;
        });
        await Task.WhenAny(publishing, Task.Delay(500));
        Assert.False(publishing.IsCompleted, "the publisher did not wait for the slow subscriber");
        for (int i = 0; i < 200; i++)
        {
            Assert.NotNull(await slow.ReceiveTextAsync());
        }

        Assert.Equal(200, await publishing.WaitAsync(TopicPeer.Timeout));
        Assert.Equal(0, hub.Counters.SlowSubscribersClosed);
    }

    [Fact]
    public async Task Subscriptions_end_with_the_connection()
    {
        await using TopicHub hub = Hub();
        TopicPeer peer = TopicPeer.Plain();
        await hub.SubscribeAsync(peer.Server, "a");
        await hub.SubscribeAsync(peer.Server, "b");
        await peer.DisposeAsync();
        await WaitUntil(() => hub.SubscriberCount("a") == 0 && hub.SubscriberCount("b") == 0);
        Assert.Equal(0, ((InMemoryBackplane)hub.Backplane).TopicCount);
    }

    [Fact]
    public async Task Hooks_refuse_subscribe_and_publish_with_a_reason_and_can_replace_a_payload()
    {
        await using var hub = new TopicHub(new TopicHubOptions
        {
            AuthorizeSubscribe = (_, topic) => ValueTask.FromResult(topic.StartsWith("secret", StringComparison.Ordinal) ? "members only" : null),
            AuthorizePublish = (_, topic, type, payload) => ValueTask.FromResult(
                topic == "readonly" ? PublishDecision.Refuse("read-only topic")
                : Encoding.UTF8.GetString(payload.Span) == "shout" ? PublishDecision.Replace(MessageType.Text, Encoding.UTF8.GetBytes("SHOUT"))
                : PublishDecision.Allow),
        });
        await using TopicPeer peer = TopicPeer.V1();
        Task session = hub.HandleAsync(peer.Server);
        await peer.ExpectOpAsync("hello");
        await peer.SendJsonAsync("""{"op":"sub","id":1,"topic":"secret/x"}""");
        System.Text.Json.JsonElement error = await peer.ExpectOpAsync("error");
        Assert.Equal("forbidden", error.GetProperty("code").GetString());
        Assert.Equal("members only", error.GetProperty("message").GetString());
        Assert.Equal(1, error.GetProperty("id").GetInt64());
        await peer.SendJsonAsync("""{"op":"pub","id":2,"topic":"readonly","text":"hi"}""");
        error = await peer.ExpectOpAsync("error");
        Assert.Equal("read-only topic", error.GetProperty("message").GetString());
        await peer.SendJsonAsync("""{"op":"sub","id":3,"topic":"room"}""");
        await peer.ExpectOpAsync("subscribed");
        await peer.SendJsonAsync("""{"op":"pub","id":4,"topic":"room","text":"shout"}""");
        System.Text.Json.JsonElement msg = await peer.ExpectOpAsync("msg");
        Assert.Equal("SHOUT", msg.GetProperty("text").GetString());
        System.Text.Json.JsonElement ack = await peer.ExpectOpAsync("ack");
        Assert.Equal(4, ack.GetProperty("id").GetInt64());
        Assert.Equal(msg.GetProperty("offset").GetInt64(), ack.GetProperty("offset").GetInt64());
        GC.KeepAlive(session);
    }

    [Fact]
    public async Task Presence_lists_members_and_announces_joins_and_leaves()
    {
        await using TopicHub hub = Hub(new TopicOptions { Presence = true });
        await using TopicPeer a = TopicPeer.V1();
        TopicPeer b = TopicPeer.V1();
        Task sa = hub.HandleAsync(a.Server);
        Task sb = hub.HandleAsync(b.Server);
        string aId = (await a.ExpectOpAsync("hello")).GetProperty("connection").GetString()!;
        string bId = (await b.ExpectOpAsync("hello")).GetProperty("connection").GetString()!;
        await a.SendJsonAsync("""{"op":"sub","id":1,"topic":"room","presence":{"name":"ada"}}""");
        await a.ExpectOpAsync("subscribed");
        System.Text.Json.JsonElement join = await a.ExpectOpAsync("join");
        Assert.Equal(aId, join.GetProperty("member").GetProperty("connection").GetString());
        await b.SendJsonAsync("""{"op":"sub","id":1,"topic":"room","presence":{"name":"bob"}}""");
        join = await a.ExpectOpAsync("join");
        Assert.Equal("bob", join.GetProperty("member").GetProperty("info").GetProperty("name").GetString());
        await a.SendJsonAsync("""{"op":"presence","id":2,"topic":"room"}""");
        System.Text.Json.JsonElement list = await a.ExpectOpAsync("presence");
        Assert.Equal(2, list.GetProperty("count").GetInt32());
        await b.DisposeAsync();
        System.Text.Json.JsonElement leave = await a.ExpectOpAsync("leave");
        Assert.Equal(bId, leave.GetProperty("member").GetProperty("connection").GetString());
        Assert.Single(await hub.GetPresenceAsync("room"));
        GC.KeepAlive(sa);
        GC.KeepAlive(sb);
    }

    private static void JsonElementAssert(System.Text.Json.JsonElement? frame, out string op, out System.Text.Json.JsonElement value)
    {
        Assert.NotNull(frame);
        value = frame.Value;
        op = value.GetProperty("op").GetString()!;
    }

    internal static async Task WaitUntil(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TopicPeer.Timeout);
        while (!condition())
        {
            await Task.Delay(10, timeout.Token); // polling a condition with a deadline, not a sleep standing in for one
        }
    }
}
