using System.Buffers;
using System.IO.Compression;
using System.IO.Pipelines;
using Sockeye.SecurityTests.Support;
using Sockeye.Transport;

namespace Sockeye.SecurityTests.Attacks;

/// <summary>
/// One connection's work must not hold the thread that delivered its data (reliability item 3). With inline socket
/// completions (the echo server's default) that thread is a socket engine's I/O thread serving many sockets; a client
/// sending 1 KiB messages that inflate to 1 MB starved the others for ~20 s. Here an in-memory transport with inline
/// pipes plays the socket: the connection's read loop runs inside the writer's flush, on a dedicated "I/O thread",
/// exactly as it runs inside the socket engine's completion, so where each message was handled says whether the
/// work left that thread. (tests/adversarial/test_fairness.py measures the same over real sockets.)
/// </summary>
public class FairnessTests
{
    private const int Inflated = 1_000_000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Small_frames_that_inflate_to_a_megabyte_are_not_inflated_on_the_thread_that_delivered_them()
    {
        await using var pair = Pair.Open();
        byte[] bomb = Frames.Build(0x2, RawDeflate(new byte[Inflated]), rsv: 4); // RSV1: compressed (RFC 7692 §6)
        Assert.True(bomb.Length < 2048, $"the bomb frame is {bomb.Length} bytes");
        const int count = 4;
        Task<List<int>> echo = pair.EchoAsync(count, Inflated);
        int ioThread = OnIoThread(pair.Client.Output, Enumerable.Repeat(bomb, count));

        List<int> threads = await echo.WaitAsync(Timeout);
        Assert.Equal(count, threads.Count);
        // Before the fix all four were inflated (and their echoes deflated) on the I/O thread, in its one flush.
        Assert.DoesNotContain(ioThread, threads);
    }

    [Fact]
    public async Task Compressing_a_large_reply_gives_up_the_thread_that_delivered_the_request()
    {
        await using var pair = Pair.Open();
        ValueTask<WebSocketMessage> request = pair.Server.ReceiveAsync();
        Task<(int Received, int Sent)> reply = ReplyAsync(pair.Server, request);
        int ioThread = OnIoThread(pair.Client.Output, [Frames.Text("send me a megabyte")]);

        (int received, int sent) = await reply.WaitAsync(Timeout);
        Assert.Equal(ioThread, received); // a small request is handled inline: the cheap path keeps its speed
        Assert.NotEqual(ioThread, sent);  // but deflating 1 MB did not all happen there

        static async Task<(int, int)> ReplyAsync(WebSocketConnection server, ValueTask<WebSocketMessage> request)
        {
            WebSocketMessage message = await request.ConfigureAwait(false);
            Assert.Equal(MessageType.Text, message.Type);
            int received = ThreadIdentity.Current;
            await server.SendBinaryAsync(new byte[Inflated]).ConfigureAwait(false); // compressed: deflate was agreed
            return (received, ThreadIdentity.Current);
        }
    }

    [Fact]
    public async Task A_flood_of_tiny_frames_in_one_read_is_not_all_handled_on_the_thread_that_delivered_it()
    {
        await using var pair = Pair.Open();
        const int count = 5000; // 35 KB on the wire, one flush: below the pipe's pause threshold
        Task<List<int>> echo = pair.EchoAsync(count, 1);
        int ioThread = OnIoThread(pair.Client.Output, Enumerable.Range(0, count).Select(_ => Frames.Build(0x2, [0])));

        List<int> threads = await echo.WaitAsync(Timeout);
        int onIo = threads.Count(t => t == ioThread);
        Assert.True(onIo > 0, "small frames should start inline on the I/O thread");
        Assert.True(onIo < count / 2, $"{onIo} of {count} tiny messages were handled on the I/O thread in one go");
    }

    /// <summary>
    /// Writes the frames and flushes once from a dedicated thread (no thread pool); returns its id. Work the
    /// connection gives up the thread for (Task.Yield posts it to this thread's context) reaches the thread pool only
    /// once the flush has returned. Queued at once, a pool thread could finish it while a busy machine had not yet let
    /// this thread get back to the await that gave it up; the await then found it completed and went on here, so a
    /// message whose inflating had all been done on the pool was still handed over on this thread (seen on 2 of 10
    /// runs of this class with the CPUs loaded). The order is now fixed: whatever runs here ran before the yield.
    /// </summary>
    private static int OnIoThread(PipeWriter output, IEnumerable<byte[]> frames)
    {
        int id = 0;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            id = ThreadIdentity.Current;
            var yielded = new AfterFlushContext();
            SynchronizationContext.SetSynchronizationContext(yielded);
            try
            {
                foreach (byte[] frame in frames)
                {
                    output.Write(frame);
                }

                // Inline pipes: the server's read loop runs inside this call until it finishes or yields.
                output.FlushAsync().AsTask().Wait(Timeout);
            }
            catch (Exception ex) when (ex is AggregateException or InvalidOperationException)
            {
                error = ex;
            }
            finally
            {
                SynchronizationContext.SetSynchronizationContext(null);
                yielded.Release();
            }
        });
        thread.Start();
        Assert.True(thread.Join(Timeout), "the I/O thread's flush did not return");
        Assert.Null(error);
        return id;
    }

    /// <summary>Holds what is posted to it until <see cref="Release"/>, then hands it (and anything later) to the thread pool.</summary>
    private sealed class AfterFlushContext : SynchronizationContext
    {
        private readonly List<(SendOrPostCallback Callback, object? State)> _held = [];
        private bool _released;

        public override void Post(SendOrPostCallback d, object? state)
        {
            lock (_held)
            {
                if (!_released)
                {
                    _held.Add((d, state));
                    return;
                }
            }

            ThreadPool.UnsafeQueueUserWorkItem(static work => work.Callback(work.State), (Callback: d, State: state), preferLocal: false);
        }

        public void Release()
        {
            lock (_held)
            {
                _released = true;
            }

            foreach ((SendOrPostCallback callback, object? state) in _held)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static work => work.Callback(work.State), (Callback: callback, State: state), preferLocal: false);
            }
        }
    }

    /// <summary>
    /// A number per thread that is never given to another thread. Managed thread ids are reused once a thread has
    /// ended, so a thread-pool thread started after the "I/O thread" exited could carry its id and look like it.
    /// </summary>
    private static class ThreadIdentity
    {
        private static int s_last;
        [ThreadStatic] private static int t_id;

        public static int Current => t_id != 0 ? t_id : t_id = Interlocked.Increment(ref s_last);
    }

    /// <summary>Raw DEFLATE ending in a sync flush, its trailing 00 00 ff ff removed (RFC 7692 §7.2.1).</summary>
    private static byte[] RawDeflate(byte[] data)
    {
        using var packed = new MemoryStream();
        using var deflate = new DeflateStream(packed, CompressionLevel.SmallestSize, leaveOpen: true);
        deflate.Write(data);
        deflate.Flush();
        byte[] bytes = packed.ToArray();
        Assert.True(bytes.AsSpan().EndsWith((byte[])[0x00, 0x00, 0xff, 0xff]));
        return bytes[..^4];
    }

    /// <summary>A server connection with permessage-deflate agreed, over inline in-memory pipes; its output is drained.</summary>
    private sealed class Pair : IAsyncDisposable
    {
        private readonly Task _drain;

        private Pair(InMemoryTransport client, WebSocketConnection server)
        {
            Client = client;
            Server = server;
            _drain = DrainAsync(client.Input);
        }

        public InMemoryTransport Client { get; }

        public WebSocketConnection Server { get; }

        public static Pair Open()
        {
            (InMemoryTransport client, InMemoryTransport server) = InMemoryTransport.CreatePair();
            var options = new WebSocketOptions { PingInterval = TimeSpan.Zero };
            var agreed = new PerMessageDeflateParameters(false, false, 15, 15, "permessage-deflate");
            return new Pair(client, WebSocketConnection.Open(server, Role.Server, options, compression: agreed));
        }

        /// <summary>
        /// Echoes <paramref name="count"/> messages of <paramref name="length"/> zeros; returns the thread each was
        /// received on. The first receive is pending before this returns, so the read loop never waits for it.
        /// </summary>
        public Task<List<int>> EchoAsync(int count, int length)
        {
            ValueTask<WebSocketMessage> first = Server.ReceiveAsync();
            return Loop(first);

            async Task<List<int>> Loop(ValueTask<WebSocketMessage> next)
            {
                var threads = new List<int>(count);
                for (int i = 0; i < count; i++)
                {
                    // ConfigureAwait(false): continue inline on whichever thread delivered, as a server handler does.
                    WebSocketMessage message = await next.ConfigureAwait(false);
                    threads.Add(ThreadIdentity.Current);
                    Assert.Equal(length, message.Payload.Length);
                    Assert.True(IsZeros(message.Payload), "the message did not arrive intact");
                    await Server.SendAsync(message.Type, message.Payload).ConfigureAwait(false);
                    next = Server.ReceiveAsync();
                }

                return threads;
            }
        }

        private static bool IsZeros(ReadOnlySequence<byte> payload)
        {
            foreach (ReadOnlyMemory<byte> segment in payload)
            {
                if (segment.Span.ContainsAnyExcept((byte)0))
                {
                    return false;
                }
            }

            return true;
        }

        private static async Task DrainAsync(PipeReader input)
        {
            while (true)
            {
                ReadResult result = await input.ReadAsync().ConfigureAwait(false);
                input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            await _drain.WaitAsync(Timeout);
        }
    }
}
