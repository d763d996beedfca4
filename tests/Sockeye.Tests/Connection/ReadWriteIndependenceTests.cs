using System.IO.Pipelines;
using Sockeye.Tests.Support;
using Sockeye.Transport;

namespace Sockeye.Tests.Connection;

/// <summary>
/// Reading and writing are independent: a send held up because the peer does not read (backpressure) never stops the
/// connection from reading what the peer sends. Otherwise two peers that each wait for the other to read deadlock:
/// seen as a plain topic publisher, subscribed to its own topic, hanging under the <c>wait</c> policy.
/// </summary>
public class ReadWriteIndependenceTests
{
    [Fact]
    public async Task A_send_waiting_for_a_peer_that_does_not_read_does_not_stop_the_read_loop()
    {
        // Pipes of 64 KiB stand in for the socket buffers; each side's writes wait when its pipe is full.
        (InMemoryTransport first, InMemoryTransport second) = InMemoryTransport.CreatePair(
            new PipeOptions(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024, useSynchronizationContext: false));
        var options = new WebSocketOptions { PingInterval = TimeSpan.Zero, SendTimeout = TimeSpan.FromMinutes(5) };
        await using WebSocketConnection local = WebSocketConnection.Open(first, Role.Client, options);
        await using WebSocketConnection peer = WebSocketConnection.Open(second, Role.Server, options);

        // The local application reads on one task and sends on another, as a bridge or a browser tab does. Its sends
        // soon wait, because the peer reads nothing.
        int localSent = 0;
        byte[] chunk = new byte[1024];
        var flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task sending = Task.Run(async () =>
        {
            await flowing.Task; // sends that start while the peer's messages stream in
            while (true)
            {
                await local.SendBinaryAsync(chunk);
                Interlocked.Increment(ref localSent);
            }
        });
        long localReceived = 0;
        Task reading = Task.Run(async () =>
        {
            while (!(await local.ReceiveAsync()).IsClose)
            {
                Interlocked.Increment(ref localReceived);
            }
        });

        // The peer sends tiny messages thousands per flush, so the local read loop spends most of its time inside a
        // batch, where sends from other tasks are coalesced into the flush at the batch's end. 200 rounds of 4,096 are
        // far more than the pipe holds: they only all go out if that flush never waits for the peer to read.
        PreparedMessage tiny = PreparedMessage.Create(MessageType.Binary, [1]);
        PreparedMessage[] batch = Enumerable.Repeat(tiny, 4096).ToArray();
        const int Rounds = 200;
        for (int round = 0; round < Rounds; round++)
        {
            if (round == 2)
            {
                flowing.SetResult();
            }

            Task send = peer.SendAsync(batch).AsTask();
            if (await Task.WhenAny(send, Task.Delay(EngineHarness.Timeout)) != send)
            {
                Assert.Fail($"the peer's round {round} waited for {EngineHarness.Timeout.TotalSeconds} s: the local side stopped reading ({Volatile.Read(ref localReceived)} received, {Volatile.Read(ref localSent)} sent)");
            }
        }

        long deadline = Environment.TickCount64 + (long)EngineHarness.Timeout.TotalMilliseconds;
        while (Volatile.Read(ref localReceived) < Rounds * 4096L)
        {
            Assert.True(Environment.TickCount64 < deadline, $"{Volatile.Read(ref localReceived)} of {Rounds * 4096} messages read");
            await Task.Delay(5); // polling a counter with a deadline
        }

        Assert.True(Volatile.Read(ref localSent) > 0);
        local.Abort();
        peer.Abort();
        tiny.Dispose();
        await Task.WhenAll(sending, reading).ContinueWith(static _ => { }, TaskScheduler.Default).WaitAsync(EngineHarness.Timeout);
    }

    [Fact]
    public async Task A_ping_that_arrives_while_a_send_waits_for_the_peer_does_not_stop_the_read_loop()
    {
        // The peer is raw pipes: it writes frames and reads nothing, so the local side's output fills.
        (InMemoryTransport first, InMemoryTransport peer) = InMemoryTransport.CreatePair(
            new PipeOptions(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024, useSynchronizationContext: false));
        var options = new WebSocketOptions { PingInterval = TimeSpan.Zero, SendTimeout = TimeSpan.FromMinutes(5) };
        await using WebSocketConnection local = WebSocketConnection.Open(first, Role.Client, options);
        byte[] chunk = new byte[1024];
        Task sending = Task.Run(async () =>
        {
            while (true)
            {
                await local.SendBinaryAsync(chunk);
            }
        });
        long localReceived = 0;
        Task reading = Task.Run(async () =>
        {
            while (!(await local.ReceiveAsync()).IsClose)
            {
                Interlocked.Increment(ref localReceived);
            }
        });

        // Wait until 64 KiB sit unread on the peer's side: from then on the local send waits, holding its output.
        while (true)
        {
            ReadResult unread = await peer.Input.ReadAsync().AsTask().WaitAsync(EngineHarness.Timeout);
            long length = unread.Buffer.Length;
            peer.Input.AdvanceTo(unread.Buffer.Start, unread.Buffer.End); // examined, not consumed
            if (length >= 64 * 1024)
            {
                break;
            }
        }

        // §5.5.2 wants a pong, which cannot go out now; the frames behind the ping must still be read.
        await peer.Output.WriteAsync(new byte[] { 0x89, 0x02, 0x68, 0x69 }); // ping "hi"
        byte[] frame = new byte[4 + 8192];
        (frame[0], frame[1], frame[2], frame[3]) = (0x82, 126, 0x20, 0x00); // binary, 8,192 bytes (§5.2)
        const int Messages = 100;
        for (int i = 0; i < Messages; i++)
        {
            Task write = peer.Output.WriteAsync(frame).AsTask();
            if (await Task.WhenAny(write, Task.Delay(EngineHarness.Timeout)) != write)
            {
                Assert.Fail($"the peer's message {i} waited for {EngineHarness.Timeout.TotalSeconds} s: the local side stopped reading after the ping ({Volatile.Read(ref localReceived)} received)");
            }
        }

        long deadline = Environment.TickCount64 + (long)EngineHarness.Timeout.TotalMilliseconds;
        while (Volatile.Read(ref localReceived) < Messages)
        {
            Assert.True(Environment.TickCount64 < deadline, $"{Volatile.Read(ref localReceived)} of {Messages} messages read");
            await Task.Delay(5); // polling a counter with a deadline
        }

        local.Abort();
        await Task.WhenAll(sending, reading).ContinueWith(static _ => { }, TaskScheduler.Default).WaitAsync(EngineHarness.Timeout);
    }

    [Fact]
    public async Task A_ping_flood_behind_a_full_output_is_read_through_and_answered_with_one_pong_for_the_latest()
    {
        // An attacker pings without reading: the pongs cannot go out, and must not pile up (§5.5.3 allows answering
        // only the most recent ping), nor stop the reading.
        (InMemoryTransport first, InMemoryTransport peer) = InMemoryTransport.CreatePair(
            new PipeOptions(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024, useSynchronizationContext: false));
        var options = new WebSocketOptions { PingInterval = TimeSpan.Zero, SendTimeout = TimeSpan.FromMinutes(5) };
        await using WebSocketConnection local = WebSocketConnection.Open(first, Role.Client, options);
        const int Sends = 200; // 200 KiB: three times what the pipe holds
        Task sending = Task.Run(async () =>
        {
            byte[] chunk = new byte[1024];
            for (int i = 0; i < Sends; i++)
            {
                await local.SendBinaryAsync(chunk);
            }
        });
        Task<WebSocketMessage> marker = local.ReceiveAsync().AsTask();
        while (true)
        {
            ReadResult unread = await peer.Input.ReadAsync().AsTask().WaitAsync(EngineHarness.Timeout);
            long length = unread.Buffer.Length;
            peer.Input.AdvanceTo(unread.Buffer.Start, unread.Buffer.End); // examined, not consumed
            if (length >= 64 * 1024)
            {
                break;
            }
        }

        // 10,000 pings, each with its number, then a text frame: it arrives only if every ping before it was read.
        const int Pings = 10_000;
        byte[] ping = [0x89, 0x04, 0, 0, 0, 0];
        for (int i = 0; i < Pings; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ping.AsSpan(2), i);
            await peer.Output.WriteAsync(ping).AsTask().WaitAsync(EngineHarness.Timeout);
        }

        await peer.Output.WriteAsync(new byte[] { 0x81, 0x03, 0x65, 0x6e, 0x64 }); // text "end"
        Assert.Equal("end", (await marker.WaitAsync(EngineHarness.Timeout)).GetText());

        // The peer reads at last: every data message arrives, and the pongs answer the latest ping, a handful at most.
        int data = 0;
        int pongs = 0;
        int lastPong = -1;
        while (data < Sends || lastPong != Pings - 1)
        {
            RawFrame frame = await RawFrame.ReadAsync(peer.Input, EngineHarness.Timeout) ?? throw new InvalidOperationException("the stream ended");
            if (frame.Opcode == Sockeye.Protocol.Opcode.Pong)
            {
                pongs++;
                lastPong = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(frame.Payload);
            }
            else
            {
                Assert.Equal(Sockeye.Protocol.Opcode.Binary, frame.Opcode);
                data++;
            }
        }

        Assert.InRange(pongs, 1, 100);
        await sending.WaitAsync(EngineHarness.Timeout);
        local.Abort();
    }
}
