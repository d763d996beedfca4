using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Sockeye.Topics;
using Sockeye.Topics.Backplanes;

namespace Sockeye.Tests.Topics;

/// <summary>
/// The per-topic sequencer both scale-out backplanes use (docs/scale-out.md, "Delivery on a node"), driven directly:
/// a stream in memory stands for Redis/JetStream, the test decides what the live path delivers.
/// </summary>
public class OrderedDeliveryTests
{
    private sealed class Sink : ITopicSink
    {
        public List<string> Seen { get; } = [];

        public void OnMessage(TopicMessage message) =>
            Seen.Add($"{message.Position.Epoch}:{message.Position.Offset} {Encoding.UTF8.GetString(message.Payload.Span)}");

        public void OnDiscontinuity(string topic, StreamPosition current) => Seen.Add($"reset {current.Epoch}:{current.Offset}");

        public void OnPresence(string topic, PresenceMember member, bool joined)
        {
        }
    }

    /// <summary>A topic's stream: epoch "e", message i is "m{i}" at offset i; the first <see cref="Trimmed"/> are gone.</summary>
    private sealed class Stream
    {
        public int Published;
        public int Trimmed;
        public int Reads;

        public Task<StreamRange> ReadAsync(string? knownEpoch, long from, ulong afterTag)
        {
            Reads++;
            var range = new StreamRange("e", Published, (ulong)Published);
            for (long i = Math.Max(from, Trimmed + 1); from > 0 && i <= Published; i++)
            {
                range.Add(Message(i), (ulong)i);
            }

            return Task.FromResult(range);
        }
    }

    private static TopicMessage Message(long offset) =>
        TopicMessage.Create("t", new StreamPosition("e", offset), MessageType.Text, Encoding.UTF8.GetBytes($"m{offset}"));

    private static (OrderedDelivery Delivery, Sink Sink, DeliveryCounters Counters) Create(int maxPending = 100)
    {
        var sink = new Sink();
        var counters = new DeliveryCounters();
        return (new OrderedDelivery("t", sink, counters, NullLogger.Instance, "test", maxPending), sink, counters);
    }

    private static bool Receive(OrderedDelivery delivery, long offset)
    {
        lock (delivery.Lock)
        {
            return delivery.Receive("e", offset, MessageType.Text, Encoding.UTF8.GetBytes($"m{offset}"), (ulong)offset);
        }
    }

    private static async Task SyncAsync(OrderedDelivery delivery, Stream stream)
    {
        lock (delivery.Lock)
        {
            Assert.True(delivery.TryBeginSync());
        }

        await delivery.SyncAsync(stream.ReadAsync, () => true);
        Assert.False(delivery.IsSyncing);
    }

    [Fact]
    public async Task The_next_offset_is_delivered_at_once_and_one_already_delivered_is_dropped_and_counted()
    {
        (OrderedDelivery delivery, Sink sink, DeliveryCounters counters) = Create();
        var stream = new Stream { Published = 2 };
        await SyncAsync(delivery, stream); // first sync: the position, nothing delivered
        Assert.Empty(sink.Seen);

        stream.Published = 4;
        Assert.False(Receive(delivery, 3));
        Assert.False(Receive(delivery, 4));
        Assert.False(Receive(delivery, 3));
        Assert.Equal(["e:3 m3", "e:4 m4"], sink.Seen);
        Assert.Equal(1, counters.Duplicates);
        Assert.Equal(4, delivery.Last);
        Assert.Equal(4UL, delivery.LastTag);
    }

    [Fact]
    public async Task A_gap_holds_what_follows_until_the_sync_delivers_the_missing_message_in_its_place()
    {
        (OrderedDelivery delivery, Sink sink, DeliveryCounters counters) = Create();
        var stream = new Stream();
        await SyncAsync(delivery, stream);

        stream.Published = 3;
        Assert.False(Receive(delivery, 1));
        Assert.True(Receive(delivery, 3)); // 2 never arrived: held, a sync is needed
        Assert.Equal(["e:1 m1"], sink.Seen);

        await SyncAsync(delivery, stream);
        Assert.Equal(["e:1 m1", "e:2 m2", "e:3 m3"], sink.Seen);
        Assert.Equal(2, counters.Fetched); // 2, and 3 that the read already saw
        Assert.Equal(1, counters.Duplicates); // the held 3
        Assert.Equal(0, counters.Discontinuities);
    }

    [Fact]
    public async Task What_the_stream_no_longer_has_is_reported_with_a_discontinuity_never_skipped_silently()
    {
        (OrderedDelivery delivery, Sink sink, DeliveryCounters counters) = Create();
        var stream = new Stream();
        await SyncAsync(delivery, stream);
        Assert.False(Receive(delivery, 1));

        stream.Published = 4;
        stream.Trimmed = 3; // 2 and 3 are gone
        Assert.True(Receive(delivery, 4));
        await SyncAsync(delivery, stream);
        Assert.Equal(["e:1 m1", "reset e:3", "e:4 m4"], sink.Seen);
        Assert.Equal(1, counters.Discontinuities);
    }

    [Fact]
    public async Task Past_the_pending_bound_messages_are_dropped_and_read_from_the_stream_by_another_round()
    {
        (OrderedDelivery delivery, Sink sink, DeliveryCounters _) = Create(maxPending: 2);
        var stream = new Stream();
        await SyncAsync(delivery, stream);

        stream.Published = 6;
        for (long i = 2; i <= 6; i++)
        {
            Assert.True(Receive(delivery, i)); // 1 is missing: all held, past two dropped
        }

        Assert.True(delivery.ResyncRequested);
        await SyncAsync(delivery, stream);
        Assert.Equal(Enumerable.Range(1, 6).Select(i => $"e:{i} m{i}"), sink.Seen);
    }

    [Fact]
    public async Task A_local_epoch_is_announced_numbered_from_one_and_left_with_a_reset_to_the_streams_position()
    {
        (OrderedDelivery delivery, Sink sink, DeliveryCounters _) = Create();
        var stream = new Stream { Published = 2 };
        await SyncAsync(delivery, stream);
        lock (delivery.Lock)
        {
            delivery.EnterLocal("local-x", announce: true);
            Assert.Equal(new StreamPosition("local-x", 1), delivery.DeliverLocal(MessageType.Text, "l1"u8));
            Assert.Equal(new StreamPosition("local-x", 2), delivery.DeliverLocal(MessageType.Text, "l2"u8));
            Assert.Equal(new StreamPosition("local-x", 2), delivery.Current);
            Assert.True(delivery.Receive("e", 3, MessageType.Text, "m3"u8)); // while local: held for the sync
        }

        stream.Published = 3;
        await SyncAsync(delivery, stream);
        Assert.Equal(["reset local-x:0", "local-x:1 l1", "local-x:2 l2", "reset e:2", "e:3 m3"], sink.Seen);
        Assert.False(delivery.IsLocal);
    }

    [Fact]
    public async Task Arrivals_out_of_order_with_drops_and_repeats_reach_the_sink_once_each_in_offset_order()
    {
        // Property-style, with a fixed seed: whatever the live path does, the sink gets 1..N, no reset.
        var random = new Random(7);
        (OrderedDelivery delivery, Sink sink, DeliveryCounters counters) = Create(maxPending: 8);
        var stream = new Stream();
        await SyncAsync(delivery, stream);
        const int N = 2000;
        for (int i = 1; i <= N; i++)
        {
            stream.Published = i;
            int roll = random.Next(10);
            if (roll == 0)
            {
                continue; // lost on the live path
            }

            long offset = roll == 1 ? Math.Max(1, i - random.Next(5)) : i; // a repeat of a recent one
            if (Receive(delivery, offset))
            {
                await SyncAsync(delivery, stream);
            }
        }

        await SyncAsync(delivery, stream);
        Assert.Equal(Enumerable.Range(1, N).Select(i => $"e:{i} m{i}"), sink.Seen);
        Assert.Equal(0, counters.Discontinuities);
    }

    [Fact]
    public async Task A_closed_topic_delivers_nothing_more_and_a_sync_of_it_ends_without_reading()
    {
        (OrderedDelivery delivery, Sink sink, DeliveryCounters _) = Create();
        var stream = new Stream();
        await SyncAsync(delivery, stream);
        Assert.True(Receive(delivery, 2));
        lock (delivery.Lock)
        {
            delivery.Close();
            Assert.False(delivery.TryBeginSync());
        }

        Assert.False(Receive(delivery, 1));
        int reads = stream.Reads;
        await delivery.SyncAsync(stream.ReadAsync, () => true);
        Assert.Equal(reads, stream.Reads);
        Assert.Empty(sink.Seen);
    }
}
