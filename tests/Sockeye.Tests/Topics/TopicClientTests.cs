using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using Sockeye.Client;
using Sockeye.Tests.Support;
using Sockeye.Topics;

namespace Sockeye.Tests.Topics;

/// <summary>TopicClient against a real server with a TopicHub: docs/protocol.md end to end.</summary>
public class TopicClientTests
{
    private static readonly TopicHubOptions History = new() { Topics = new TopicOptions { HistorySize = 1000 } };

    [Fact]
    public async Task Publish_is_acknowledged_with_consecutive_positions_that_subscribers_receive_in_order()
    {
        await using TopicTests topics = await TopicTests.StartAsync();
        TopicClient publisher = await topics.ConnectAsync();
        TopicClient subscriber = await topics.ConnectAsync();
        var inbox = new Inbox();
        await subscriber.SubscribeAsync("news", inbox.Handler);

        var acks = new List<StreamPosition>();
        for (int i = 1; i <= 20; i++)
        {
            acks.Add(await publisher.PublishTextAsync("news", $"item {i}").AsTask().WaitAsync(TopicTests.Timeout));
        }

        await inbox.UntilAsync(20);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), acks.Select(a => a.Offset));
        Assert.Single(acks.Select(a => a.Epoch).Distinct());
        Assert.Equal(acks, inbox.All.Select(r => r.Position));
        Assert.Equal(Enumerable.Range(1, 20).Select(i => $"item {i}"), inbox.All.Select(r => r.Text));
        Assert.All(inbox.All, r => Assert.Equal(MessageType.Text, r.Type));
        Assert.Equal(TopicClientState.Open, subscriber.State);
        Assert.False(string.IsNullOrEmpty(subscriber.ConnectionId));
    }

    [Fact]
    public async Task Text_with_escapes_and_non_ascii_round_trips_exactly()
    {
        await using TopicTests topics = await TopicTests.StartAsync();
        TopicClient client = await topics.ConnectAsync();
        var inbox = new Inbox();
        await client.SubscribeAsync("text", inbox.Handler);
        string[] texts = ["", "quote \" backslash \\ slash /", "line\nbreak\ttab\u0001control", "é ü 日本 🐟", "<script>&amp;</script>"];

        foreach (string text in texts)
        {
            await client.PublishTextAsync("text", text).AsTask().WaitAsync(TopicTests.Timeout);
        }

        await inbox.UntilAsync(texts.Length);
        Assert.Equal(texts, inbox.All.Select(r => r.Text));
        // The same bytes through the UTF-8 overload.
        await client.PublishAsync("text", MessageType.Text, Encoding.UTF8.GetBytes(texts[3])).AsTask().WaitAsync(TopicTests.Timeout);
        Assert.Equal(texts[3], (await inbox.NextAsync()).Text);
    }

    [Fact]
    public async Task Binary_payloads_round_trip_in_the_length_prefixed_frame()
    {
        await using TopicTests topics = await TopicTests.StartAsync();
        TopicClient publisher = await topics.ConnectAsync();
        TopicClient subscriber = await topics.ConnectAsync();
        var inbox = new Inbox();
        await subscriber.SubscribeAsync("bin", inbox.Handler);
        byte[][] payloads = [[], Bytes.Pattern(256), Bytes.Pattern(100_000), Encoding.UTF8.GetBytes("{\"op\":\"msg\"}")];

        foreach (byte[] payload in payloads)
        {
            await publisher.PublishAsync("bin", MessageType.Binary, payload).AsTask().WaitAsync(TopicTests.Timeout);
        }

        await inbox.UntilAsync(payloads.Length);
        Assert.All(inbox.All, r => Assert.Equal(MessageType.Binary, r.Type));
        for (int i = 0; i < payloads.Length; i++)
        {
            Assert.Equal(payloads[i], inbox.All[i].Payload);
        }
    }

    [Fact]
    public async Task Refusals_by_hooks_are_errors_with_the_servers_code_and_the_connection_stays_usable()
    {
        var options = new TopicHubOptions
        {
            AuthorizeSubscribe = (_, topic) => ValueTask.FromResult(topic.StartsWith("secret", StringComparison.Ordinal) ? "no secrets here" : null),
            AuthorizePublish = (_, topic, _, payload) => ValueTask.FromResult(payload.Length > 10
                ? PublishDecision.Refuse("too long for " + topic)
                : PublishDecision.Allow),
        };
        await using TopicTests topics = await TopicTests.StartAsync(options);
        TopicClient client = await topics.ConnectAsync();

        TopicException subscribe = await Assert.ThrowsAsync<TopicException>(() => client.SubscribeAsync("secret/plans", new Inbox().Handler).WaitAsync(TopicTests.Timeout));
        Assert.Equal("forbidden", subscribe.Code);
        Assert.Equal("no secrets here", subscribe.Message);

        TopicException publish = await Assert.ThrowsAsync<TopicException>(() => client.PublishTextAsync("open", "this is far too long").AsTask().WaitAsync(TopicTests.Timeout));
        Assert.Equal("forbidden", publish.Code);
        Assert.Equal("too long for open", publish.Message);

        TopicException badName = await Assert.ThrowsAsync<TopicException>(() => client.PublishTextAsync("", "x").AsTask());
        Assert.Equal("bad_request", badName.Code);

        // Still connected and working: the refusals were answers, not failures.
        var inbox = new Inbox();
        await client.SubscribeAsync("open", inbox.Handler).WaitAsync(TopicTests.Timeout);
        StreamPosition ok = await client.PublishTextAsync("open", "short").AsTask().WaitAsync(TopicTests.Timeout);
        Assert.Equal(ok, (await inbox.NextAsync()).Position);
        Assert.Equal(TopicClientState.Open, client.State);
    }

    [Fact]
    public async Task Subscribing_twice_to_a_topic_is_refused_locally()
    {
        await using TopicTests topics = await TopicTests.StartAsync();
        TopicClient client = await topics.ConnectAsync();
        await client.SubscribeAsync("once", new Inbox().Handler).WaitAsync(TopicTests.Timeout);

        TopicException twice = await Assert.ThrowsAsync<TopicException>(() => client.SubscribeAsync("once", new Inbox().Handler));
        Assert.Equal("bad_request", twice.Code);
    }

    [Fact]
    public async Task Presence_lists_members_with_their_info_and_reports_joins_and_leaves()
    {
        await using TopicTests topics = await TopicTests.StartAsync(new TopicHubOptions { Topics = new TopicOptions { Presence = true } });
        TopicClient ada = await topics.ConnectAsync();
        TopicClient bob = await topics.ConnectAsync();
        var changes = Channel.CreateUnbounded<PresenceChange>();
        await ada.SubscribeAsync("room", new Inbox().Handler, new TopicSubscribeOptions
        {
            Presence = """{"name":"ada"}""",
            OnPresence = change => changes.Writer.TryWrite(change),
        }).WaitAsync(TopicTests.Timeout);
        PresenceChange self = await changes.Reader.ReadAsync().AsTask().WaitAsync(TopicTests.Timeout);
        Assert.True(self.Joined);
        Assert.Equal(ada.ConnectionId, self.Member.Connection);

        TopicSubscription bobs = await bob.SubscribeAsync("room", new Inbox().Handler, new TopicSubscribeOptions { Presence = """{"name":"bob"}""" }).WaitAsync(TopicTests.Timeout);
        PresenceChange join = await changes.Reader.ReadAsync().AsTask().WaitAsync(TopicTests.Timeout);
        Assert.Equal(new PresenceChange("room", new PresenceMember(bob.ConnectionId!, """{"name":"bob"}"""), true), join);

        IReadOnlyList<PresenceMember> members = await ada.GetPresenceAsync("room").WaitAsync(TopicTests.Timeout);
        Assert.Equal(
            new[] { $"{ada.ConnectionId} {{\"name\":\"ada\"}}", $"{bob.ConnectionId} {{\"name\":\"bob\"}}" }.Order(StringComparer.Ordinal),
            members.Select(m => $"{m.Connection} {m.Info}").Order(StringComparer.Ordinal));

        await bobs.UnsubscribeAsync().AsTask().WaitAsync(TopicTests.Timeout);
        PresenceChange leave = await changes.Reader.ReadAsync().AsTask().WaitAsync(TopicTests.Timeout);
        Assert.False(leave.Joined);
        Assert.Equal(bob.ConnectionId, leave.Member.Connection);
        Assert.Single(await ada.GetPresenceAsync("room").WaitAsync(TopicTests.Timeout));
    }

    [Fact]
    public async Task Presence_info_must_be_json()
    {
        await using TopicTests topics = await TopicTests.StartAsync();
        TopicClient client = await topics.ConnectAsync();

        await Assert.ThrowsAnyAsync<System.Text.Json.JsonException>(() =>
            client.SubscribeAsync("room", new Inbox().Handler, new TopicSubscribeOptions { Presence = "{name: ada" }));
    }

    [Fact]
    public async Task Unsubscribe_stops_delivery_on_the_server()
    {
        await using TopicTests topics = await TopicTests.StartAsync();
        TopicClient client = await topics.ConnectAsync();
        var inbox = new Inbox();
        TopicSubscription subscription = await client.SubscribeAsync("t", inbox.Handler).WaitAsync(TopicTests.Timeout);
        Assert.Equal(1, topics.Hub.SubscriberCount("t"));

        await subscription.UnsubscribeAsync().AsTask().WaitAsync(TopicTests.Timeout);

        Assert.Equal(0, topics.Hub.SubscriberCount("t"));
        Assert.True(subscription.Completion.IsCompletedSuccessfully);
        await client.PublishTextAsync("t", "after").AsTask().WaitAsync(TopicTests.Timeout);
        Assert.False(inbox.HasMore);
    }

    [Fact]
    public async Task Since_resumes_from_a_stored_position_when_history_has_it()
    {
        await using TopicTests topics = await TopicTests.StartAsync(History);
        TopicClient publisher = await topics.ConnectAsync();
        var acks = new List<StreamPosition>();
        for (int i = 1; i <= 5; i++)
        {
            acks.Add(await publisher.PublishTextAsync("log", $"m{i}").AsTask().WaitAsync(TopicTests.Timeout));
        }

        TopicClient later = await topics.ConnectAsync();
        var inbox = new Inbox();
        int resets = 0;
        TopicSubscription subscription = await later.SubscribeAsync("log", inbox.Handler,
            new TopicSubscribeOptions { Since = acks[2], OnReset = _ => resets++ }).WaitAsync(TopicTests.Timeout);
        await publisher.PublishTextAsync("log", "m6").AsTask().WaitAsync(TopicTests.Timeout);

        await inbox.UntilAsync(3);
        Assert.Equal(["m4", "m5", "m6"], inbox.All.Select(r => r.Text));
        Assert.Equal(0, resets);
        Assert.Equal(inbox.All[^1].Position, subscription.Position);
    }

    [Fact]
    public async Task Since_from_another_epoch_reports_a_reset_and_continues_live()
    {
        await using TopicTests topics = await TopicTests.StartAsync(History);
        TopicClient client = await topics.ConnectAsync();
        var resets = new List<StreamPosition>();
        var inbox = new Inbox();
        await client.SubscribeAsync("log", inbox.Handler,
            new TopicSubscribeOptions { Since = new StreamPosition("gone", 7), OnReset = resets.Add }).WaitAsync(TopicTests.Timeout);

        StreamPosition live = await client.PublishTextAsync("log", "now").AsTask().WaitAsync(TopicTests.Timeout);

        Assert.Equal([new StreamPosition(live.Epoch, 0)], resets);
        Assert.Equal(live, (await inbox.NextAsync()).Position);
    }

    [Fact]
    public async Task Resumes_after_the_server_drops_the_connection_every_message_once_in_order()
    {
        var captured = Channel.CreateUnbounded<WebSocketConnection>();
        var options = new TopicHubOptions
        {
            Topics = new TopicOptions { HistorySize = 1000 },
            AuthorizeSubscribe = (connection, _) => { captured.Writer.TryWrite(connection); return ValueTask.FromResult<string?>(null); },
        };
        await using TopicTests topics = await TopicTests.StartAsync(options);
        TopicClient publisher = await topics.ConnectAsync();
        TopicClient subscriber = await topics.ConnectAsync();
        var inbox = new Inbox();
        int resets = 0;
        await subscriber.SubscribeAsync("feed", inbox.Handler, new TopicSubscribeOptions { OnReset = _ => resets++ }).WaitAsync(TopicTests.Timeout);
        WebSocketConnection serverSide = await captured.Reader.ReadAsync().AsTask().WaitAsync(TopicTests.Timeout);

        for (int i = 1; i <= 50; i++)
        {
            await publisher.PublishTextAsync("feed", $"m{i}").AsTask().WaitAsync(TopicTests.Timeout);
        }

        await inbox.UntilAsync(50);
        Task lost = TopicTests.Next(subscriber, TopicClientState.Reconnecting);
        Task back = TopicTests.Next(subscriber, TopicClientState.Open);
        serverSide.Abort("test: dropped by the server");
        await lost;
        for (int i = 51; i <= 100; i++)
        {
            await publisher.PublishTextAsync("feed", $"m{i}").AsTask().WaitAsync(TopicTests.Timeout);
        }

        await back;
        await inbox.UntilAsync(100);
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), inbox.All.Select(r => r.Position.Offset));
        Assert.Equal(Enumerable.Range(1, 100).Select(i => $"m{i}"), inbox.All.Select(r => r.Text));
        Assert.Equal(0, resets);
        Assert.NotNull(await captured.Reader.ReadAsync().AsTask().WaitAsync(TopicTests.Timeout)); // it did resubscribe
    }

    [Fact]
    public async Task Resumes_across_drops_during_a_concurrent_stream_every_message_once_in_order()
    {
        var captured = Channel.CreateUnbounded<WebSocketConnection>();
        var options = new TopicHubOptions
        {
            Topics = new TopicOptions { HistorySize = 1000 },
            AuthorizeSubscribe = (connection, _) => { captured.Writer.TryWrite(connection); return ValueTask.FromResult<string?>(null); },
        };
        await using TopicTests topics = await TopicTests.StartAsync(options);
        TopicClient publisher = await topics.ConnectAsync();
        TopicClient subscriber = await topics.ConnectAsync();
        int reconnects = 0;
        subscriber.StateChanged += (_, e) => { if (e.State == TopicClientState.Reconnecting) { Interlocked.Increment(ref reconnects); } };
        await using TopicSubscription feed = await subscriber.SubscribeAsync("feed").WaitAsync(TopicTests.Timeout); // the channel form

        const int Count = 600;
        Task<StreamPosition[]> publishing = Task.Run(async () =>
        {
            var acks = new StreamPosition[Count];
            for (int i = 0; i < Count; i++)
            {
                acks[i] = await publisher.PublishTextAsync("feed", $"m{i + 1}").AsTask().WaitAsync(TopicTests.Timeout);
            }

            return acks;
        });

        var received = new List<(long Offset, string Text)>();
        using var deadline = new CancellationTokenSource(TopicTests.Timeout * 2);
        await foreach (TopicClientMessage message in feed.ReadAllAsync(deadline.Token))
        {
            received.Add((message.Position.Offset, message.GetText()));
            if (received.Count is 150 or 350)
            {
                // Drop whichever connection the subscription is on now (captured at its latest subscribe).
                WebSocketConnection current = await captured.Reader.ReadAsync().AsTask().WaitAsync(TopicTests.Timeout);
                current.Abort("test: dropped mid-stream");
            }

            if (received.Count == Count)
            {
                break;
            }
        }

        StreamPosition[] acks = await publishing.WaitAsync(TopicTests.Timeout);
        Assert.Equal(Enumerable.Range(1, Count).Select(i => (long)i), received.Select(r => r.Offset));
        Assert.Equal(Enumerable.Range(1, Count).Select(i => $"m{i}"), received.Select(r => r.Text));
        Assert.Equal(acks.Select(a => a.Offset), received.Select(r => r.Offset));
        Assert.Equal(2, reconnects);
    }

    [Fact]
    public async Task A_publish_whose_connection_drops_before_its_ack_fails_as_outcome_unknown_and_is_not_retried()
    {
        var hooked = new TaskCompletionSource<WebSocketConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int published = 0;
        var options = new TopicHubOptions
        {
            AuthorizePublish = async (connection, topic, _, _) =>
            {
                if (topic == "hang")
                {
                    Interlocked.Increment(ref published);
                    hooked.TrySetResult(connection);
                    await gate.Task;
                }

                return PublishDecision.Allow;
            },
        };
        await using TopicTests topics = await TopicTests.StartAsync(options);
        TopicClient client = await topics.ConnectAsync();
        Task back = TopicTests.Next(client, TopicClientState.Open);

        ValueTask<StreamPosition> publish = client.PublishTextAsync("hang", "maybe");
        WebSocketConnection serverSide = await hooked.Task.WaitAsync(TopicTests.Timeout);
        serverSide.Abort("test: dropped before the ack");

        TopicException unknown = await Assert.ThrowsAsync<TopicException>(() => publish.AsTask().WaitAsync(TopicTests.Timeout));
        Assert.Equal("disconnected", unknown.Code);
        Assert.Contains("outcome is unknown", unknown.Message, StringComparison.Ordinal);
        gate.SetResult();

        await back; // reconnected, and the publish was not sent again
        StreamPosition after = await client.PublishTextAsync("other", "fine").AsTask().WaitAsync(TopicTests.Timeout);
        Assert.Equal(1, after.Offset);
        Assert.Equal(1, Volatile.Read(ref published));
    }

    [Fact]
    public async Task A_publish_without_an_answer_times_out_and_a_late_ack_is_ignored()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new TopicHubOptions
        {
            Topics = new TopicOptions { HistorySize = 10 }, // so offsets go on from one publish to the next
            AuthorizePublish = async (_, topic, _, _) =>
            {
                if (topic == "slow")
                {
                    await gate.Task;
                }

                return PublishDecision.Allow;
            },
        };
        await using TopicTests topics = await TopicTests.StartAsync(options);
        // The timeout must expire for the first publish and must not for the second, whose ack comes at once: 3 s is
        // short for the test and far beyond one local round trip on a busy machine.
        TopicClient client = await topics.ConnectAsync(TopicTests.FastReconnect(requestTimeout: TimeSpan.FromSeconds(3)));

        TopicException timeout = await Assert.ThrowsAsync<TopicException>(() => client.PublishTextAsync("slow", "x").AsTask().WaitAsync(TopicTests.Timeout));
        Assert.Equal("timeout", timeout.Code);

        gate.SetResult(); // the late ack arrives now; the next request gets its own answer
        StreamPosition next = await client.PublishTextAsync("slow", "y").AsTask().WaitAsync(TopicTests.Timeout);
        Assert.Equal(2, next.Offset);
    }

    [Fact]
    public async Task Cancelling_a_publish_fails_it_with_the_token()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new TopicHubOptions { AuthorizePublish = async (_, _, _, _) => { await gate.Task; return PublishDecision.Allow; } };
        await using TopicTests topics = await TopicTests.StartAsync(options);
        TopicClient client = await topics.ConnectAsync();
        using var cancel = new CancellationTokenSource();

        ValueTask<StreamPosition> publish = client.PublishTextAsync("t", "x", cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => publish.AsTask().WaitAsync(TopicTests.Timeout));
        gate.SetResult();
    }

    [Fact]
    public async Task A_restarted_server_is_reported_as_a_reset_and_a_publish_made_while_down_is_sent_after()
    {
        TopicTests first = await TopicTests.StartAsync(History);
        int port = first.Server.Port;
        TopicClient client = await TopicClient.ConnectAsync(first.Server.Uri("/"), TopicTests.FastReconnect()).WaitAsync(TopicTests.Timeout);
        await using (client)
        {
            var resets = Channel.CreateUnbounded<StreamPosition>();
            TopicSubscription feed = await client.SubscribeAsync("feed", new TopicSubscribeOptions { OnReset = p => resets.Writer.TryWrite(p) }).WaitAsync(TopicTests.Timeout);
            await using IAsyncEnumerator<TopicClientMessage> reader = feed.ReadAllAsync().GetAsyncEnumerator();
            StreamPosition before = await client.PublishTextAsync("feed", "before").AsTask().WaitAsync(TopicTests.Timeout);
            Assert.True(await reader.MoveNextAsync().AsTask().WaitAsync(TopicTests.Timeout));
            Assert.Equal(before, reader.Current.Position);

            Task lost = TopicTests.Next(client, TopicClientState.Reconnecting);
            await first.DisposeAsync();
            await lost;
            ValueTask<StreamPosition> whileDown = client.PublishTextAsync("feed", "while down");

            await using TopicTests second = await TopicTests.StartAsync(History, port);
            StreamPosition after = await whileDown.AsTask().WaitAsync(TopicTests.Timeout);

            Assert.NotEqual(before.Epoch, after.Epoch);
            Assert.True(await reader.MoveNextAsync().AsTask().WaitAsync(TopicTests.Timeout));
            // The reset came first, in order with the messages: the state before it is stale.
            Assert.True(resets.Reader.TryRead(out StreamPosition reset));
            Assert.Equal(new StreamPosition(after.Epoch, 0), reset);
            Assert.Equal(after, reader.Current.Position);
            Assert.Equal("while down", reader.Current.GetText());
            Assert.Equal(after, feed.Position);
        }
    }

    [Fact]
    public async Task Dispose_fails_waiting_requests_ends_subscriptions_and_closes()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new TopicHubOptions { AuthorizePublish = async (_, _, _, _) => { await gate.Task; return PublishDecision.Allow; } };
        await using TopicTests topics = await TopicTests.StartAsync(options);
        TopicClient client = await TopicClient.ConnectAsync(topics.Server.Uri("/"), TopicTests.FastReconnect()).WaitAsync(TopicTests.Timeout);
        TopicSubscription feed = await client.SubscribeAsync("feed").WaitAsync(TopicTests.Timeout);
        var states = new ConcurrentQueue<TopicClientState>();
        client.StateChanged += (_, e) => states.Enqueue(e.State);
        ValueTask<StreamPosition> waiting = client.PublishTextAsync("feed", "never acked");

        await client.DisposeAsync().AsTask().WaitAsync(TopicTests.Timeout);
        gate.SetResult();

        TopicException closed = await Assert.ThrowsAsync<TopicException>(() => waiting.AsTask().WaitAsync(TopicTests.Timeout));
        Assert.Equal("closed", closed.Code);
        Assert.True(feed.Completion.IsCompletedSuccessfully);
        await foreach (TopicClientMessage unexpected in feed.ReadAllAsync())
        {
            Assert.Fail($"no message was published, got {unexpected.Position}");
        }

        Assert.Equal(TopicClientState.Closed, client.State);
        Assert.Equal([TopicClientState.Closed], states);
        TopicException after = await Assert.ThrowsAsync<TopicException>(() => client.PublishTextAsync("feed", "x").AsTask());
        Assert.Equal("closed", after.Code);
    }

    [Fact]
    public async Task Connecting_to_an_endpoint_without_the_subprotocol_fails_clearly()
    {
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/echo", TestServer.Echo));

        WebSocketHandshakeException error = await Assert.ThrowsAsync<WebSocketHandshakeException>(() =>
            TopicClient.ConnectAsync(server.Uri("/echo")).WaitAsync(TopicTests.Timeout));
        Assert.Contains("sockeye.v1", error.Message, StringComparison.Ordinal);
    }
}

/// <summary>The client against a hand-written sockeye.v1 server that misbehaves in ways the hub never does.</summary>
public class TopicClientProtocolTests
{
    [Fact]
    public async Task Offsets_already_delivered_are_dropped_and_unknown_ops_and_fields_are_ignored()
    {
        // Answers the first sub, then sends offsets 1 2 2 1 3 (and frames of a later protocol version).
        await using TestServer server = await TestServer.StartAsync(s => s.MapFallback(async ws =>
        {
            await ws.SendTextAsync("""{"op":"hello","version":1,"connection":"n.1","future":[1,{"x":2}]}""");
            WebSocketMessage request = await ws.ReceiveAsync();
            using var json = System.Text.Json.JsonDocument.Parse(request.GetText());
            long id = json.RootElement.GetProperty("id").GetInt64();
            await ws.SendTextAsync($$"""{"op":"subscribed","id":{{id}},"topic":"t","epoch":"e","offset":0}""");
            await ws.SendTextAsync("""{"op":"someday","topic":"t"}""");
            foreach (int offset in new[] { 1, 2, 2, 1, 3 })
            {
                await ws.SendTextAsync($$"""{"op":"msg","topic":"t","epoch":"e","offset":{{offset}},"text":"m{{offset}}","extra":[1]}""");
            }

            await ws.ReceiveAsync(); // until the client closes
        }, Subprotocol()));
        await using TopicClient client = await TopicClient.ConnectAsync(server.Uri("/"), TopicTests.FastReconnect()).WaitAsync(TopicTests.Timeout);
        var inbox = new Inbox();

        await client.SubscribeAsync("t", inbox.Handler).WaitAsync(TopicTests.Timeout);
        await inbox.UntilAsync(3);

        Assert.Equal(["m1", "m2", "m3"], inbox.All.Select(r => r.Text));
        Assert.Equal("n.1", client.ConnectionId);
    }

    private static Sockeye.Server.EndpointOptions Subprotocol()
    {
        var options = new Sockeye.Server.EndpointOptions();
        options.Subprotocols.Add(TopicHub.Subprotocol);
        return options;
    }
}
