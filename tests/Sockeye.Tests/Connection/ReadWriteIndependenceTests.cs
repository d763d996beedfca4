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
}
