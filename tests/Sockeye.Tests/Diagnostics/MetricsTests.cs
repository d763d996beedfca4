using System.Diagnostics.Metrics;
using Sockeye.Diagnostics;
using Sockeye.Tests.Support;
using Sockeye.Topics;

namespace Sockeye.Tests.Diagnostics;

// The meter is process-wide: these tests run alone (after the parallel ones) so no other test's traffic is counted.
[CollectionDefinition(nameof(MetricsTests), DisableParallelization = true)]
public sealed class SerialMetricsTests;

[Collection(nameof(MetricsTests))]
public sealed class MetricsTests
{
    private static readonly TimeSpan Timeout = TestServer.Timeout;

    /// <summary>Every long measurement of the listened meters, with its tags.</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<(string Name, long Value, Dictionary<string, object?> Tags)> _seen = [];
        private readonly TaskCompletionSource _closeSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Recorder(Func<Instrument, bool> select)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (select(instrument))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                var copy = new Dictionary<string, object?>();
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    copy[tag.Key] = tag.Value;
                }

                lock (_seen)
                {
                    _seen.Add((instrument.Name, value, copy));
                }

                if (instrument.Name == "sockeye.server.closes")
                {
                    _closeSeen.TrySetResult();
                }
            });
            _listener.Start();
        }

        public Task CloseSeen => _closeSeen.Task;

        public void Collect() => _listener.RecordObservableInstruments();

        public long Sum(string name, string? tag = null, object? value = null)
        {
            lock (_seen)
            {
                return _seen.Where(m => m.Name == name && (tag is null || Equals(m.Tags.GetValueOrDefault(tag), value))).Sum(m => m.Value);
            }
        }

        public List<long> Values(string name)
        {
            lock (_seen)
            {
                return _seen.Where(m => m.Name == name).Select(m => m.Value).ToList();
            }
        }

        public List<string> Names()
        {
            lock (_seen)
            {
                return _seen.Select(m => m.Name).Distinct().Order(StringComparer.Ordinal).ToList();
            }
        }

        public void Dispose() => _listener.Dispose();
    }

    [Fact]
    public async Task Server_counts_connection_handshake_messages_bytes_and_close_code()
    {
        using var recorder = new Recorder(i => i.Meter.Name == SockeyeMetrics.MeterName);
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/echo", TestServer.Echo));
        await using WebSocketConnection client = await server.ConnectAsync("/echo");

        await client.SendTextAsync("hello").AsTask().WaitAsync(Timeout);
        Assert.Equal("hello", (await client.ReceiveAsync().AsTask().WaitAsync(Timeout)).GetText());
        // The echo came back, so the server had registered the connection before starting it.
        Assert.Equal([1L], recorder.Values("sockeye.server.active_connections"));
        Assert.Equal(1, recorder.Sum("sockeye.server.handshakes", "sockeye.handshake.outcome", "accepted"));
        Assert.Equal(1, recorder.Sum("sockeye.server.handshakes", "http.response.status_code", 101));

        Task<WebSocketMessage> drain = client.ReceiveAsync().AsTask().WaitAsync(Timeout);
        await client.CloseAsync(CloseCode.NormalClosure, "bye").WaitAsync(Timeout);
        Assert.True((await drain).IsClose);
        await recorder.CloseSeen.WaitAsync(Timeout); // the server counts the close once it released the connection

        Assert.Equal([1L, -1L], recorder.Values("sockeye.server.active_connections"));
        Assert.Equal(1, recorder.Sum("sockeye.server.closes", "sockeye.close.code", 1000));
        Assert.Equal(1, recorder.Sum("sockeye.server.closes"));
        // Client connections count too (same process): "hello" went out twice (client, echo) and came in twice.
        Assert.Equal(2, recorder.Sum("sockeye.connection.sent.messages"));
        Assert.Equal(2, recorder.Sum("sockeye.connection.received.messages"));
        Assert.Equal(10, recorder.Sum("sockeye.connection.sent.bytes"));
        Assert.Equal(10, recorder.Sum("sockeye.connection.received.bytes"));
    }

    [Fact]
    public void Counting_a_message_allocates_nothing_while_listened_to()
    {
        using var listener = new MeterListener();
        long total = 0;
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == SockeyeMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        // Measurements arrive on the recording thread; a connection left over from an earlier test may still record
        // on another one, so only this thread's count (it stays on one thread: the loop below is synchronous).
        int me = Environment.CurrentManagedThreadId;
        listener.SetMeasurementEventCallback<long>((_, value, _, _) =>
        {
            if (Environment.CurrentManagedThreadId == me)
            {
                total += value;
            }
        });
        listener.Start();
        SockeyeMetrics.Received(1, endOfMessage: true); // warm up
        SockeyeMetrics.Sent(1, 1);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            SockeyeMetrics.Received(100, endOfMessage: true);
            SockeyeMetrics.Sent(100, 1);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(4 + (10_000 * 202), total);
    }

    [Fact]
    public async Task Refused_upgrade_is_counted_with_its_status()
    {
        using var recorder = new Recorder(i => i.Meter.Name == SockeyeMetrics.MeterName);
        await using TestServer server = await TestServer.StartAsync(s => s.Map("/echo", TestServer.Echo));

        await Assert.ThrowsAnyAsync<Exception>(() => server.ConnectAsync("/elsewhere"));

        Assert.Equal(1, recorder.Sum("sockeye.server.handshakes", "http.response.status_code", 404));
        Assert.Equal(1, recorder.Sum("sockeye.server.handshakes", "sockeye.handshake.outcome", "refused"));
        Assert.Equal(0, recorder.Sum("sockeye.server.handshakes", "sockeye.handshake.outcome", "accepted"));
        Assert.Empty(recorder.Values("sockeye.server.active_connections"));
    }

    [Fact]
    public async Task A_peer_that_stops_reading_is_counted_as_stalled_then_timed_out()
    {
        using var recorder = new Recorder(i => i.Meter.Name == SockeyeMetrics.MeterName);
        var handlerFailed = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TestServer server = await TestServer.StartAsync(
            s => s.Map("/flood", async ws =>
            {
                byte[] chunk = new byte[64 * 1024];
                try
                {
                    while (true)
                    {
                        await ws.SendBinaryAsync(chunk);
                    }
                }
                catch (Exception ex)
                {
                    handlerFailed.TrySetResult(ex);
                }
            }),
            o =>
            {
                o.WebSocket.MaxSendBuffer = 64 * 1024;
                o.WebSocket.SendTimeout = TimeSpan.FromSeconds(1);
                o.WebSocket.PingInterval = TimeSpan.Zero;
            });
        // The client never receives: its read loop parks after the first message, TCP fills, the server's sends wait.
        await using WebSocketConnection client = await server.ConnectAsync("/flood");

        Assert.IsType<WebSocketClosedException>(await handlerFailed.Task.WaitAsync(Timeout));
        await recorder.CloseSeen.WaitAsync(Timeout);

        Assert.True(recorder.Sum("sockeye.connection.send.stalls") >= 1);
        List<long> waiting = recorder.Values("sockeye.connection.send.waiting");
        Assert.Contains(1L, waiting);
        Assert.Equal(0, waiting.Sum()); // every wait that started ended
        Assert.Equal(1, recorder.Sum("sockeye.connection.send.timeouts"));
        Assert.Equal(1, recorder.Sum("sockeye.server.closes", "sockeye.close.code", 1008));
    }

    [Fact]
    public async Task Topic_hub_counters_are_observable()
    {
        await using var hub = new TopicHub();
        using var recorder = new Recorder(i => ReferenceEquals(i.Meter, hub.Meter));

        await hub.PublishTextAsync("news", "one").AsTask().WaitAsync(Timeout);
        await hub.PublishTextAsync("news", "two").AsTask().WaitAsync(Timeout);
        recorder.Collect();

        Assert.Equal(TopicHubMetrics.MeterName, hub.Meter.Name);
        Assert.Equal(2, recorder.Sum("sockeye.topics.published.messages"));
        Assert.Equal(0, recorder.Sum("sockeye.topics.delivered.messages"));
        Assert.Equal(0, recorder.Sum("sockeye.topics.dropped.messages"));
        Assert.Equal(0, recorder.Sum("sockeye.topics.slow_subscriber.closes"));
        Assert.Equal(0, recorder.Sum("sockeye.topics.subscribers"));
        Assert.Equal(0, recorder.Sum("sockeye.topics.queued.messages"));
        Assert.Equal(["sockeye.topics.delivered.messages", "sockeye.topics.dropped.messages", "sockeye.topics.published.messages",
            "sockeye.topics.queued.bytes", "sockeye.topics.queued.messages", "sockeye.topics.slow_subscriber.closes", "sockeye.topics.subscribers"],
            recorder.Names());
    }

    [Fact]
    public async Task Fan_out_queue_depth_of_a_subscriber_that_does_not_read_is_observable()
    {
        await using var hub = new TopicHub(new TopicHubOptions { Topics = new TopicOptions { MaxQueuedMessages = 5000, MaxQueuedBytes = 1 << 30 } });
        using var recorder = new Recorder(i => ReferenceEquals(i.Meter, hub.Meter));
        await using Topics.TopicPeer stuck = Topics.TopicPeer.Plain();
        await hub.SubscribeAsync(stuck.Server, "t");

        // 2,000 KiB for a client that never reads: at most the pipe (64 KiB) and the send buffer (64 KiB) drain.
        byte[] payload = new byte[1024];
        for (int i = 0; i < 2000; i++)
        {
            await hub.PublishAsync("t", MessageType.Binary, payload).AsTask().WaitAsync(Timeout);
        }

        recorder.Collect();
        long queued = recorder.Sum("sockeye.topics.queued.messages");
        Assert.InRange(queued, 2000 - 400, 2000);
        Assert.InRange(recorder.Sum("sockeye.topics.queued.bytes"), (2000 - 400) * 1024, 2000 * 1024);
        Assert.Equal(1, recorder.Sum("sockeye.topics.subscribers"));
    }
}
