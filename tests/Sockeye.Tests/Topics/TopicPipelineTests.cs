using System.Text;
using System.Text.Json;
using Sockeye.Topics;

namespace Sockeye.Tests.Topics;

/// <summary>
/// A connection's publishes are pipelined to a backplane that keeps call order (docs/topics.md "Publishing"): up to
/// <see cref="TopicHubOptions.MaxPublishesInFlight"/> at once, offsets in send order, answers in request order, each
/// publish answered on its own, payloads copied out of the receive buffer.
/// </summary>
public class TopicPipelineTests
{
    private static TopicHub Hub(ITopicBackplane backplane, int inFlight = 32, TopicOptions? topics = null, PublishHook? hook = null) => new(new TopicHubOptions
    {
        Backplane = backplane,
        MaxPublishesInFlight = inFlight,
        Topics = topics ?? TopicOptions.Default,
        AuthorizePublish = hook,
        PlainClientTopic = _ => "t",
    });

    private static string Pub(long id, string text) => $$"""{"op":"pub","id":{{id}},"topic":"t","text":"{{text}}"}""";

    [Fact]
    public async Task Publishes_are_sent_before_the_first_is_answered_up_to_the_limit()
    {
        await using var backplane = new GatedBackplane();
        await using TopicHub hub = Hub(backplane, inFlight: 4);
        await using TopicPeer peer = TopicPeer.V1();
        Task session = hub.HandleAsync(peer.Server);
        await peer.ExpectOpAsync("hello");
        for (int i = 1; i <= 10; i++)
        {
            await peer.SendJsonAsync(Pub(i, $"m{i}"));
        }

        // Four calls reach the backplane while none is answered (before pipelining: one at a time).
        var calls = new List<GatedBackplane.Call>();
        for (int i = 0; i < 4; i++)
        {
            calls.Add(await backplane.NextCallAsync());
        }

        Assert.Equal(["m1", "m2", "m3", "m4"], calls.Select(c => c.Text));
        // Completed newest first; then the rest, as they come.
        for (int i = 3; i >= 0; i--)
        {
            backplane.Complete(calls[i]);
        }

        for (int i = 4; i < 10; i++)
        {
            GatedBackplane.Call call = await backplane.NextCallAsync();
            Assert.Equal($"m{i + 1}", call.Text);
            backplane.Complete(call);
        }

        for (int i = 1; i <= 10; i++)
        {
            JsonElement ack = await peer.ExpectOpAsync("ack");
            Assert.Equal(i, ack.GetProperty("id").GetInt64());
            Assert.Equal(i, ack.GetProperty("offset").GetInt64());
        }

        Assert.True(backplane.MaxInFlight <= 4, $"{backplane.MaxInFlight} publishes were in flight, the limit is 4");
        Assert.Equal(Enumerable.Range(1, 10).Select(i => ($"m{i}", (long)i)), backplane.Completed.OrderBy(c => c.Offset));
        Assert.False(session.IsCompleted);
    }

    [Fact]
    public async Task The_payload_of_a_publish_in_flight_is_not_overwritten_by_the_messages_read_after_it()
    {
        await using var backplane = new GatedBackplane();
        await using TopicHub hub = Hub(backplane);
        await using TopicPeer peer = TopicPeer.Plain(maxSendBuffer: 1 << 20);
        _ = hub.HandleAsync(peer.Server);
        // 6 KB messages span pipe segments (and so a rented reassembly buffer too): both are reused by the next reads.
        var calls = new List<GatedBackplane.Call>();
        for (int i = 0; i < 8; i++)
        {
            await peer.Client.SendTextAsync(new string((char)('a' + i), 6000));
            calls.Add(await backplane.NextCallAsync());
        }

        calls.ForEach(backplane.Complete);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (new string((char)('a' + i), 6000), (long)i + 1)), backplane.Completed);
    }

    [Fact]
    public async Task Acks_and_refusals_come_in_request_order_when_the_backplane_answers_out_of_order()
    {
        await using var backplane = new GatedBackplane(autoComplete: true);
        PublishHook hook = (_, _, _, payload) => ValueTask.FromResult(
            Encoding.UTF8.GetString(payload.Span) == "forbidden" ? PublishDecision.Refuse("no") : PublishDecision.Allow);
        await using TopicHub hub = Hub(backplane, hook: hook);
        await using TopicPeer peer = TopicPeer.V1();
        _ = hub.HandleAsync(peer.Server);
        await peer.ExpectOpAsync("hello");
        const int Count = 300;
        var expected = new List<string>();
        long offset = 0;
        for (int i = 1; i <= Count; i++)
        {
            string text = (i % 37) switch { 5 => "forbidden", 11 => "refuse", _ => $"m{i}" };
            expected.Add(text switch { "forbidden" => $"error {i} forbidden", "refuse" => $"error {i} unavailable", _ => $"ack {i} {++offset}" });
            await peer.SendJsonAsync(Pub(i, text));
        }

        await peer.SendJsonAsync("""{"op":"presence","id":9999,"topic":"t"}"""); // not a publish: answered after all of them
        var answers = new List<string>();
        while (answers.Count < Count)
        {
            JsonElement frame = await peer.ReceiveJsonAsync() ?? throw new InvalidOperationException("closed");
            string op = frame.GetProperty("op").GetString()!;
            long id = frame.GetProperty("id").GetInt64();
            answers.Add(op == "ack" ? $"ack {id} {frame.GetProperty("offset").GetInt64()}" : $"{op} {id} {frame.GetProperty("code").GetString()}");
        }

        Assert.Equal(expected, answers);
        Assert.Equal(9999, (await peer.ExpectOpAsync("presence")).GetProperty("id").GetInt64());
        // Each payload was intact when the backplane finished with it: the receive buffer was not reused under it.
        Assert.All(backplane.Completed.Where(c => c.Offset > 0), c => Assert.Contains($"ack {c.Payload[1..]} {c.Offset}", expected));
        Assert.Equal(offset, hub.Counters.Published);
    }

    [Fact]
    public async Task A_plain_client_publishes_in_send_order_and_a_refusal_closes_it_with_1008()
    {
        await using var backplane = new GatedBackplane(autoComplete: true);
        await using TopicHub hub = Hub(backplane);
        await using TopicPeer peer = TopicPeer.Plain();
        Task session = hub.HandleAsync(peer.Server);
        for (int i = 1; i <= 200; i++)
        {
            await peer.Client.SendTextAsync($"m{i}");
        }

        await peer.Client.SendTextAsync("refuse");
        while (await peer.ReceiveTextAsync() is not null)
        {
        }

        Assert.Equal((ushort)1008, peer.Client.CloseStatus);
        await session.WaitAsync(TopicPeer.Timeout);
        Assert.Equal(Enumerable.Range(1, 200).Select(i => ($"m{i}", (long)i)), backplane.Completed.Where(c => c.Offset > 0).OrderBy(c => c.Offset));
        Assert.Equal(200, hub.Counters.Published);
    }

    [Fact]
    public async Task A_connection_closing_with_publishes_in_flight_answers_them_and_ends_cleanly()
    {
        await using var backplane = new GatedBackplane();
        await using TopicHub hub = Hub(backplane);
        await using TopicPeer peer = TopicPeer.V1();
        Task session = hub.HandleAsync(peer.Server);
        await peer.ExpectOpAsync("hello");
        for (int i = 1; i <= 5; i++)
        {
            await peer.SendJsonAsync(Pub(i, $"m{i}"));
        }

        var calls = new List<GatedBackplane.Call>();
        for (int i = 0; i < 5; i++)
        {
            calls.Add(await backplane.NextCallAsync());
        }

        peer.Client.Abort();
        await peer.Server.Completion.WaitAsync(TopicPeer.Timeout);
        Assert.False(session.IsCompleted, "the session ended while its publishes were in flight");
        for (int i = 4; i >= 0; i--)
        {
            backplane.Complete(calls[i]);
        }

        await session.WaitAsync(TopicPeer.Timeout); // no exception: the acks for a closed connection are dropped
        Assert.Equal(5, hub.Counters.Published);
        Assert.Equal(Enumerable.Range(1, 5).Select(i => ($"m{i}", (long)i)), backplane.Completed.OrderBy(c => c.Offset));
    }

    [Fact]
    public async Task A_backplane_fault_in_flight_cuts_the_connection_and_surfaces_from_the_handler()
    {
        await using var backplane = new GatedBackplane(autoComplete: true);
        await using TopicHub hub = Hub(backplane);
        await using TopicPeer peer = TopicPeer.V1();
        Task session = hub.HandleAsync(peer.Server);
        await peer.ExpectOpAsync("hello");
        await peer.SendJsonAsync(Pub(1, "m1"));
        await peer.SendJsonAsync(Pub(2, "fault"));
        await peer.SendJsonAsync(Pub(3, "m3"));
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => session.WaitAsync(TopicPeer.Timeout));
        Assert.Equal("test backplane fault", ex.Message);
        await peer.Server.Completion.WaitAsync(TopicPeer.Timeout);
    }

    [Fact]
    public async Task Under_the_wait_policy_a_pipelining_publisher_still_waits_for_a_slow_subscriber()
    {
        await using TopicHub hub = Hub(new InMemoryBackplane(), topics: new TopicOptions { MaxQueuedMessages = 8, MaxQueuedBytes = 1 << 30, SlowSubscriberPolicy = SlowSubscriberPolicy.Wait });
        await using TopicPeer slow = TopicPeer.Plain();
        await using TopicPeer publisher = TopicPeer.Plain(maxSendBuffer: 64L * 1024 * 1024);
        await hub.SubscribeAsync(slow.Server, "t");
        _ = hub.HandleAsync(publisher.Server);
        // The plain publisher is a subscriber of its topic too: it reads its own messages, the `slow` one does not.
        _ = Task.Run(async () =>
        {
            while (!(await publisher.Client.ReceiveAsync()).IsClose)
            {
            }
        });
        byte[] payload = new byte[8192];
        Task sending = Task.Run(async () =>
        {
            for (int i = 0; i < 200; i++)
            {
                payload[0] = (byte)i;
                await publisher.Client.SendBinaryAsync(payload);
            }
        });
        await Task.WhenAny(sending, Task.Delay(500));
        Assert.True(hub.Counters.Published < 200, "the publisher did not wait for the slow subscriber");
        for (int i = 0; i < 200; i++)
        {
            Task<WebSocketMessage> receive = slow.Client.ReceiveAsync().AsTask();
            if (await Task.WhenAny(receive, Task.Delay(TopicPeer.Timeout)) != receive)
            {
                Assert.Fail($"message {i} never came: {hub.Counters}, sending {sending.Status}, subscribers: {string.Join("; ", hub.Subscribers.Select(d => $"{d.Connection} queued {d.QueuedMessages}, closed {d.IsClosed}"))}");
            }

            WebSocketMessage message = await receive;
            Assert.Equal((byte)i, message.Payload.FirstSpan[0]);
        }

        await sending.WaitAsync(TopicPeer.Timeout);
        Assert.Equal(200, hub.Counters.Published);
        Assert.Equal(0, hub.Counters.SlowSubscribersClosed);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1025)]
    public void The_in_flight_limit_is_validated(int limit) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new TopicHub(new TopicHubOptions { MaxPublishesInFlight = limit }));
}
