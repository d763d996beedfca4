using System.Net;
using System.Net.Sockets;
using Sockeye.Client;
using Sockeye.SecurityTests.Support;

namespace Sockeye.SecurityTests.Attacks;

/// <summary>Peers that hold resources: slow or absent readers, silent peers, and shutdown with traffic in flight.</summary>
[Collection(RunsAlone.Name)]
public sealed class ResourceTests
{
    [Fact]
    public async Task A_slow_consumer_is_cut_off_with_1008_and_the_blocked_send_fails()
    {
        var result = new TaskCompletionSource<(Exception? Error, long SentBytes, WebSocketConnection Connection)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await Servers.StartEchoAsync(o =>
        {
            o.WebSocket.MaxSendBuffer = 64 * 1024;
            o.WebSocket.SendTimeout = TimeSpan.FromSeconds(1);
        }, handler: async connection =>
        {
            if (connection.Request.Path == "/health")
            {
                await Servers.EchoAsync(connection);
                return;
            }

            byte[] chunk = new byte[64 * 1024];
            long sent = 0;
            try
            {
                while (sent < 1L << 30)
                {
                    await connection.SendBinaryAsync(chunk);
                    sent += chunk.Length;
                }

                result.TrySetResult((null, sent, connection));
            }
            catch (Exception ex)
            {
                result.TrySetResult((ex, sent, connection));
            }
        });

        long before = GC.GetTotalMemory(forceFullCollection: true);
        // Never reads: after the handshake the socket's receive buffer (kept small) fills and stays full.
        await using RawClient client = await RawClient.UpgradeAsync(server.Port, "/", receiveBufferSize: 16 * 1024);
        (Exception? error, long sentBytes, WebSocketConnection serverSide) = await result.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.IsType<WebSocketClosedException>(error);
        Assert.Equal(CloseCode.PolicyViolation, serverSide.CloseStatus);
        await serverSide.Completion.WaitAsync(TimeSpan.FromSeconds(15));
        // What the server accepted is bounded by its send buffer plus the kernel's socket buffers, not by the handler.
        Assert.True(sentBytes < 32L * 1024 * 1024, $"{sentBytes:N0} bytes were accepted for a peer that reads nothing");
        long growth = GC.GetTotalMemory(forceFullCollection: true) - before;
        Assert.True(growth < 16L * 1024 * 1024, $"managed memory grew by {growth:N0} bytes");
        await Servers.EventuallyAsync(() => server.ConnectionCount == 0, "the slow connection unregistered");
        await Servers.AssertHealthyAsync(server);
    }

    // Review item 1: an echo handler blocked in a send while its peer dies. Before the fix the read loop stayed parked
    // for a receive the failed handler never made, so the connection (its slot, buffers and socket) was never released.
    [Theory]
    [InlineData(true)]   // the peer resets while the echo is blocked: released at once, long before the send timeout
    [InlineData(false)]  // the peer just stops reading: released by the send timeout
    public async Task A_connection_whose_peer_dies_while_a_send_is_blocked_is_released(bool reset)
    {
        var sendBlocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await Servers.StartEchoAsync(o =>
        {
            o.MaxConnections = 2;
            o.WebSocket.MaxSendBuffer = 64 * 1024;
            o.WebSocket.SendTimeout = reset ? TimeSpan.FromMinutes(5) : TimeSpan.FromSeconds(1);
        }, handler: async connection =>
        {
            if (connection.Request.Path == "/health")
            {
                await Servers.EchoAsync(connection);
                return;
            }

            while (await connection.ReceiveAsync() is { IsClose: false } message)
            {
                ValueTask send = connection.SendAsync(message.Type, message.Payload);
                if (!send.IsCompleted)
                {
                    sendBlocked.TrySetResult();
                }

                await send;
            }
        });

        byte[] frame = Frames.Build(0x2, new byte[16 * 1024]);
        for (int round = 0; round < 3; round++)
        {
            sendBlocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var client = await RawClient.UpgradeAsync(server.Port, "/", receiveBufferSize: 4096);
            // Push until the server's echo blocks on our full receive window (bounded: 64 MiB).
            Task pushing = Task.Run(async () =>
            {
                for (int i = 0; i < 4096 && !sendBlocked.Task.IsCompleted; i++)
                {
                    if (!await client.TrySendAsync(frame))
                    {
                        return;
                    }
                }
            });
            await sendBlocked.Task.WaitAsync(TimeSpan.FromSeconds(30));
            if (reset)
            {
                client.Socket.LingerState = new LingerOption(true, 0);
                client.Socket.Close();
            }

            await Servers.EventuallyAsync(() => server.ConnectionCount == 0, $"round {round}: the dead connection released", TimeSpan.FromSeconds(30));
            await pushing.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            await client.DisposeAsync();
        }

        // Both slots are free again: a connection limit of 2 still admits the health check.
        await Servers.AssertHealthyAsync(server);
    }

    [Fact]
    public async Task Keepalive_a_peer_that_never_answers_pings_is_closed_with_1011()
    {
        var captured = new Captured();
        await using var server = await Servers.StartEchoAsync(o =>
        {
            o.WebSocket.PingInterval = TimeSpan.FromMilliseconds(200);
            o.WebSocket.PingTimeout = TimeSpan.FromMilliseconds(300);
        }, handler: async connection =>
        {
            captured.Set(connection);
            await Servers.EchoAsync(connection);
        });
        await using RawClient client = await RawClient.UpgradeAsync(server.Port); // reads pings, never sends pongs
        WireFrame? first = await client.ReadFrameAsync();
        Assert.Equal(0x9, first!.Opcode);
        WireFrame close = await client.ReadCloseAsync();
        Assert.Equal(CloseCode.InternalError, close.CloseCode);
        Assert.Equal(CloseCode.InternalError, (await captured.First).CloseStatus);
        await Servers.AssertHealthyAsync(server);
    }

    [Fact]
    public async Task Keepalive_a_peer_that_answers_pings_stays_open_and_its_round_trip_time_is_measured()
    {
        var captured = new Captured();
        await using var server = await Servers.StartEchoAsync(o =>
        {
            // A ping every 100 ms, and a timeout far longer than a busy 2-core machine can delay the client's pong
            // (it was 500 ms: one slow scheduling of the client's read loop closed a healthy connection with 1011).
            o.WebSocket.PingInterval = TimeSpan.FromMilliseconds(100);
            o.WebSocket.PingTimeout = TimeSpan.FromSeconds(2);
        }, handler: async connection =>
        {
            captured.Set(connection);
            await Servers.EchoAsync(connection);
        });
        var options = new WebSocketClientOptions();
        options.WebSocket.PingInterval = TimeSpan.Zero;
        await using WebSocketConnection client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{server.Port}/"), options);
        Task<WebSocketMessage> receiving = client.ReceiveAsync().AsTask(); // the client's read loop answers pings
        WebSocketConnection serverSide = await captured.First.WaitAsync(TimeSpan.FromSeconds(10));
        await Servers.EventuallyAsync(() => serverSide.RoundTripTime is not null, "a round-trip time measured");
        Assert.InRange(serverSide.RoundTripTime!.Value, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        // For 1.5 times the ping timeout (about 30 ping rounds) the connection stays open, then still echoes: were
        // the pongs not counted, the first unanswered ping would have closed it after 2 s.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(3))
        {
            Assert.Null(serverSide.CloseStatus);
            await Task.Delay(50);
        }

        await client.SendTextAsync("alive");
        Assert.Equal("alive", (await receiving.WaitAsync(TimeSpan.FromSeconds(10))).GetText());
        await client.CloseAsync();
        Assert.Equal(CloseCode.NormalClosure, client.CloseStatus);
    }

    [Fact]
    public async Task Idle_timeout_closes_a_silent_peer_with_1001()
    {
        await using var server = await Servers.StartEchoAsync(o =>
        {
            o.WebSocket.PingInterval = TimeSpan.Zero;
            o.WebSocket.IdleTimeout = TimeSpan.FromMilliseconds(400);
        });
        // The clock starts before the upgrade: the server's idle timer starts with the connection, before the client
        // has read the 101, so a watch started after UpgradeAsync could miss any part of the 400 ms on a busy machine.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await using RawClient client = await RawClient.UpgradeAsync(server.Port);
        WireFrame close = await client.ReadCloseAsync();
        Assert.Equal(CloseCode.GoingAway, close.CloseCode);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(300), $"closed after {watch.Elapsed}, before the idle timeout");
        await Servers.AssertHealthyAsync(server);
    }

    [Fact]
    public async Task Graceful_shutdown_delivers_every_sent_message_then_1001_and_later_sends_fail()
    {
        var outcome = new TaskCompletionSource<(long Sent, Exception? Error, WebSocketConnection Connection)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = await Servers.StartEchoAsync(handler: async connection =>
        {
            long sent = 0;
            try
            {
                while (true)
                {
                    await connection.SendTextAsync(sent.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    sent++;
                    if (sent == 100)
                    {
                        started.TrySetResult();
                    }
                }
            }
            catch (Exception ex)
            {
                outcome.TrySetResult((sent, ex, connection));
            }
        });

        var options = new WebSocketClientOptions();
        options.WebSocket.PingInterval = TimeSpan.Zero;
        WebSocketConnection client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{server.Port}/"), options);
        Task<long> received = Task.Run(async () =>
        {
            long next = 0;
            while (await client.ReceiveAsync() is { IsClose: false } message)
            {
                Assert.Equal(next.ToString(System.Globalization.CultureInfo.InvariantCulture), message.GetText()); // in order, none skipped
                next++;
            }

            return next;
        });

        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        int port = server.Port;
        await server.StopAsync().WaitAsync(TimeSpan.FromSeconds(20));
        (long sent, Exception? error, WebSocketConnection serverSide) = await outcome.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // Every send that returned was delivered before the close; the first one after it failed loudly.
        Assert.IsType<WebSocketClosedException>(error);
        Assert.Equal(sent, await received.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(CloseCode.GoingAway, client.CloseStatus);
        Assert.Equal(CloseCode.GoingAway, serverSide.CloseStatus);
        await Assert.ThrowsAsync<WebSocketClosedException>(() => serverSide.SendTextAsync("too late").AsTask());
        await Assert.ThrowsAsync<WebSocketClosedException>(() => client.SendTextAsync("too late").AsTask());
        await client.DisposeAsync();

        // Stopped means stopped: new connections are refused at the TCP level.
        using var probe = new TcpClient();
        SocketException refused = await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, port));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Port_stays_readable_after_StopAsync()
    {
        // Found by the shutdown test: after StopAsync the getter threw ObjectDisposedException (disposed listener).
        var server = await Servers.StartEchoAsync();
        int port = server.Port;
        await server.StopAsync();
        Assert.Equal(port, server.Port);
        await server.DisposeAsync();
    }
}
