using System.IO.Pipelines;
using Sockeye.Topics;
using Sockeye.Transport;
using Xunit.Abstractions;

namespace Sockeye.Tests.Topics;

[CollectionDefinition(nameof(SerialAllocationTests), DisableParallelization = true)]
public sealed class SerialAllocationTests;

/// <summary>
/// Steady-state fan-out allocates nothing: after a warm-up, publishing to many subscribers (framing once, queueing
/// references, batching sends) leaves the process's allocated-bytes counter where it was. Runs alone (no parallel
/// tests) because the counter is process-wide.
/// </summary>
[Collection(nameof(SerialAllocationTests))]
public class TopicAllocationTests(ITestOutputHelper output)
{
    private const int Subscribers = 50;
    private const int PayloadSize = 64;

    [Fact]
    public async Task Steady_state_publish_and_fan_out_allocate_nothing_per_message_or_delivery()
    {
        await using var hub = new TopicHub(new TopicHubOptions { Topics = new TopicOptions { MaxQueuedMessages = 1_000_000, MaxQueuedBytes = 1L << 30 } });
        var drains = new List<Drain>();
        for (int i = 0; i < Subscribers; i++)
        {
            (InMemoryTransport server, InMemoryTransport client) = InMemoryTransport.CreatePair();
            WebSocketConnection connection = WebSocketConnection.Open(server, Role.Server, new WebSocketOptions { PingInterval = TimeSpan.Zero });
            await hub.SubscribeAsync(connection, "t");
            drains.Add(new Drain(client.Input));
        }

        byte[] payload = new byte[PayloadSize];
        long frameSize = 2 + PayloadSize;
        long expected = 0;
        // Rounds of 100 publishes, each drained before the next: a bounded number of messages in flight, as with
        // subscribers that keep up (a burst of 20,000 unread messages would outgrow the pools, by design).
        async Task PublishRoundAsync(int count)
        {
            for (int round = 0; round < count / 100; round++)
            {
                for (int i = 0; i < 100; i++)
                {
                    await hub.PublishAsync("t", MessageType.Binary, payload);
                }

                expected += 100 * frameSize;
                long deadline = Environment.TickCount64 + 15_000;
                while (!drains.TrueForAll(d => Volatile.Read(ref d.Bytes) >= expected))
                {
                    Assert.True(Environment.TickCount64 < deadline, "subscribers did not receive every message");
                    Thread.Yield(); // polls the condition without allocating (a Task.Delay timer would)
                }
            }
        }

        await PublishRoundAsync(20_000); // warm-up: JIT tiers, pools and ring buffers reach their working size
        await PublishRoundAsync(20_000);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        const int Measured = 20_000;
        await PublishRoundAsync(Measured);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        double perDelivery = (double)allocated / (Measured * (long)Subscribers);
        output.WriteLine($"{allocated} bytes for {Measured} publishes x {Subscribers} subscribers = {perDelivery:F4} B/delivery, {(double)allocated / Measured:F2} B/publish");
        // A per-message allocation would be at least 24 bytes x 20,000 (480 KB); per delivery, x 50 more (24 MB).
        // The counter is process-wide, so what other tests' leftovers (timers, closing connections) allocate meanwhile
        // counts too: seen up to ~50 KB in a full run. The bound is half of the smallest per-message allocation.
        Assert.True(allocated < 24L * Measured / 2, $"{allocated} bytes allocated for {Measured} publishes to {Subscribers} subscribers");
        foreach (Drain drain in drains)
        {
            drain.Stop();
        }
    }

    [Fact]
    public async Task Steady_state_pipelined_publishes_of_a_plain_client_allocate_nothing_per_message()
    {
        await using TopicHub hub = new(new TopicHubOptions
        {
            Topics = new TopicOptions { MaxQueuedMessages = 1_000_000, MaxQueuedBytes = 1L << 30 },
            PlainClientTopic = _ => "t",
        });
        var drains = new List<Drain>();
        for (int i = 0; i < Subscribers; i++)
        {
            (InMemoryTransport server, InMemoryTransport client) = InMemoryTransport.CreatePair();
            WebSocketConnection connection = WebSocketConnection.Open(server, Role.Server, new WebSocketOptions { PingInterval = TimeSpan.Zero });
            await hub.SubscribeAsync(connection, "t");
            drains.Add(new Drain(client.Input));
        }

        // The publisher: a plain client whose masked frames (RFC 6455 §5.3, a zero key) are written straight into its
        // side of the pipe; its messages go through TopicHub.HandleAsync and the publish pipeline. It is subscribed to
        // its topic too, so it is drained like the others.
        (InMemoryTransport publisherServer, InMemoryTransport publisherClient) = InMemoryTransport.CreatePair();
        WebSocketConnection publisher = WebSocketConnection.Open(publisherServer, Role.Server, new WebSocketOptions { PingInterval = TimeSpan.Zero });
        Task session = hub.HandleAsync(publisher);
        drains.Add(new Drain(publisherClient.Input));
        while (hub.SubscriberCount("t") < Subscribers + 1)
        {
            await Task.Yield();
        }

        byte[] frames = new byte[100 * (6 + PayloadSize)];
        for (int i = 0; i < 100; i++)
        {
            frames[i * (6 + PayloadSize)] = 0x82; // FIN, binary
            frames[(i * (6 + PayloadSize)) + 1] = 0x80 | PayloadSize; // masked, the key's four bytes stay zero
        }

        long frameSize = 2 + PayloadSize;
        long expected = 0;
        async Task PublishRoundAsync(int count)
        {
            for (int round = 0; round < count / 100; round++)
            {
                await publisherClient.Output.WriteAsync(frames);
                expected += 100 * frameSize;
                long deadline = Environment.TickCount64 + 15_000;
                while (!drains.TrueForAll(d => Volatile.Read(ref d.Bytes) >= expected))
                {
                    Assert.True(Environment.TickCount64 < deadline, "subscribers did not receive every message");
                    Thread.Yield();
                }
            }
        }

        await PublishRoundAsync(20_000);
        await PublishRoundAsync(20_000);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        const int Measured = 20_000;
        await PublishRoundAsync(Measured);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        output.WriteLine($"{allocated} bytes for {Measured} publishes by a plain client x {Subscribers + 1} subscribers, {(double)allocated / Measured:F2} B/publish");
        Assert.True(allocated < 24L * Measured / 2, $"{allocated} bytes allocated for {Measured} publishes by a plain client");
        publisher.Abort();
        await session.WaitAsync(TimeSpan.FromSeconds(15));
        foreach (Drain drain in drains)
        {
            drain.Stop();
        }
    }

    private sealed class Drain
    {
        public long Bytes;
        private readonly PipeReader _input;
        private readonly Task _loop;

        public Drain(PipeReader input)
        {
            _input = input;
            _loop = Task.Run(LoopAsync);
        }

        public void Stop() => _input.CancelPendingRead();

        private async Task LoopAsync()
        {
            while (true)
            {
                ReadResult result = await _input.ReadAsync();
                Interlocked.Add(ref Bytes, result.Buffer.Length);
                _input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }
        }
    }
}

