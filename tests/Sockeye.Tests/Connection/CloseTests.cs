using System.Diagnostics;
using Sockeye.Protocol;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Connection;

public class CloseTests
{
    private static Task<WebSocketMessage> Receive(EngineHarness h) => h.Connection.ReceiveAsync().AsTask().WaitAsync(EngineHarness.Timeout);

    [Fact]
    public async Task Server_echoes_the_peer_close_code_and_closes()
    {
        await using var h = EngineHarness.Start(Role.Server);
        Task<WebSocketMessage> receive = Receive(h);

        h.SendClose(1000, "bye");

        Assert.Equal(Bytes.Hex("88 02 03 e8"), (await h.ExpectFrameAsync()).Wire);
        await h.ExpectEndAsync();
        Assert.True((await receive).IsClose);
        await h.Connection.Completion.WaitAsync(EngineHarness.Timeout);
        Assert.Equal((ushort)1000, h.Connection.CloseStatus);
        Assert.Equal("bye", h.Connection.CloseReason);
    }

    [Fact]
    public async Task Client_echoes_the_peer_close_code_masked()
    {
        await using var h = EngineHarness.Start(Role.Client);

        h.SendClose(4000, "server going");

        RawFrame close = await h.ExpectFrameAsync();
        Assert.Equal(Opcode.Close, close.Opcode);
        Assert.True(close.Masked);
        Assert.Equal(Bytes.Hex("0f a0"), close.Payload);
        await h.Connection.Completion.WaitAsync(EngineHarness.Timeout);
        Assert.Equal((ushort)4000, h.Connection.CloseStatus);
        Assert.Equal("server going", h.Connection.CloseReason);
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public async Task Empty_close_is_answered_with_empty_close_and_status_1005(Role role)
    {
        await using var h = EngineHarness.Start(role);

        h.Send(Opcode.Close, ReadOnlySpan<byte>.Empty);

        RawFrame close = await h.ExpectFrameAsync();
        Assert.Equal(Opcode.Close, close.Opcode);
        Assert.Empty(close.Payload);
        await h.ExpectEndAsync();
        Assert.Equal(CloseCode.NoStatusReceived, h.Connection.CloseStatus);
        if (role == Role.Server)
        {
            Assert.Equal(Bytes.Hex("88 00"), close.Wire);
        }
    }

    [Fact]
    public async Task Nothing_is_delivered_or_answered_after_a_close_frame()
    {
        await using var h = EngineHarness.Start(Role.Server);
        Task<WebSocketMessage> receive = Receive(h);

        h.SendRaw(Bytes.Concat(RawFrame.Close(1000), RawFrame.Build(Opcode.Text, "late"), RawFrame.Build(Opcode.Ping, "late"u8)));

        Assert.True((await receive).IsClose);
        Assert.Equal(Bytes.Hex("88 02 03 e8"), (await h.ExpectFrameAsync()).Wire);
        await h.ExpectEndAsync();
        Assert.True((await Receive(h)).IsClose); // and every later receive
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public async Task CloseAsync_sends_close_and_completes_when_the_peer_answers(Role role)
    {
        await using var h = EngineHarness.Start(role);

        Task closing = h.Connection.CloseAsync(4000, "done");
        RawFrame close = await h.ExpectFrameAsync();
        h.SendClose(4000);
        await closing.WaitAsync(EngineHarness.Timeout);

        Assert.Equal(Opcode.Close, close.Opcode);
        Assert.Equal(role == Role.Client, close.Masked);
        Assert.Equal(4000, close.CloseCode);
        Assert.Equal("done", close.CloseReason);
        if (role == Role.Server)
        {
            Assert.Equal(Bytes.Hex("88 06 0f a0 64 6f 6e 65"), close.Wire);
        }

        await h.ExpectEndAsync();
        Assert.Equal((ushort)4000, h.Connection.CloseStatus);
        Assert.True(h.Connection.Completion.IsCompleted);
        Assert.False(h.Transport.Aborted.Task.IsCompleted);
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public async Task CloseAsync_after_receiving_a_message_completes_when_the_peer_answers(Role role)
    {
        // The common "receive, then close" pattern: the application holds no receive call when it closes.
        // The close timeout is far longer than the test's wait: only reading the peer's close frame can finish it in time
        // (a short timeout would let a busy machine pass through the 1006 path, or fail a correct engine).
        await using var h = EngineHarness.Start(role, o => o.CloseTimeout = TimeSpan.FromMinutes(5));
        h.Send(Opcode.Text, "last message");
        Assert.Equal("last message", (await Receive(h)).GetText());

        Task closing = h.Connection.CloseAsync(1000);
        RawFrame close = await h.ExpectFrameAsync();
        h.SendClose(1000);

        Task finished = await Task.WhenAny(closing, Task.Delay(EngineHarness.Timeout));
        Assert.True(finished == closing, "CloseAsync did not complete: the peer's close frame was never read");
        Assert.Equal(1000, close.CloseCode);
        Assert.Equal((ushort)1000, h.Connection.CloseStatus); // the handshake completed: not 1006 after a timeout
        Assert.False(h.Transport.Aborted.Task.IsCompleted);
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public async Task CloseAsync_with_a_silent_peer_completes_after_CloseTimeout_with_1006(Role role)
    {
        var timeout = TimeSpan.FromMilliseconds(300);
        await using var h = EngineHarness.Start(role, o => o.CloseTimeout = timeout);
        var stopwatch = Stopwatch.StartNew();

        await h.Connection.CloseAsync(1000).WaitAsync(EngineHarness.Timeout);

        Assert.True(stopwatch.Elapsed >= timeout * 0.9, $"closed after {stopwatch.Elapsed}, before the close timeout");
        Assert.Equal(CloseCode.AbnormalClosure, h.Connection.CloseStatus);
        Assert.True(h.Transport.Aborted.Task.IsCompleted);
        Assert.True(h.Connection.Completion.IsCompleted);
        Assert.Equal(Opcode.Close, (await h.ExpectFrameAsync()).Opcode);
    }

    [Fact]
    public async Task Receive_loop_ends_with_Close_when_CloseAsync_is_called_while_receiving()
    {
        await using var h = EngineHarness.Start(Role.Server);
        Task<WebSocketMessage> receive = Receive(h);

        Task closing = h.Connection.CloseAsync(1001, "going");
        Assert.Equal(1001, (await h.ExpectFrameAsync()).CloseCode);
        h.Send(Opcode.Text, "in flight"); // data sent before the peer saw our close is still delivered
        h.SendClose(1001);

        Assert.Equal("in flight", (await receive).GetText());
        Assert.True((await Receive(h)).IsClose);
        await closing.WaitAsync(EngineHarness.Timeout);
        Assert.Equal((ushort)1001, h.Connection.CloseStatus);
    }

    [Fact]
    public async Task CloseAsync_without_a_receiver_drops_data_that_arrives_before_the_peer_close()
    {
        await using var h = EngineHarness.Start(Role.Server);

        Task closing = h.Connection.CloseAsync(1000);
        Assert.Equal(1000, (await h.ExpectFrameAsync()).CloseCode);
        h.Send(Opcode.Binary, [1, 2, 3]);
        h.SendClose(1000);

        await closing.WaitAsync(EngineHarness.Timeout);
        Assert.Equal((ushort)1000, h.Connection.CloseStatus);
        await h.ExpectEndAsync();
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public async Task Peer_ending_TCP_without_a_close_frame_is_1006(Role role)
    {
        await using var h = EngineHarness.Start(role);
        Task<WebSocketMessage> receive = Receive(h);

        h.Transport.EndPeerOutput();

        Assert.True((await receive).IsClose);
        await h.Connection.Completion.WaitAsync(EngineHarness.Timeout);
        Assert.Equal(CloseCode.AbnormalClosure, h.Connection.CloseStatus);
        await h.ExpectEndAsync(); // no close frame is sent on an abnormal end
    }

    [Fact]
    public async Task Sends_after_close_throw_WebSocketClosedException()
    {
        await using var h = EngineHarness.Start(Role.Server);
        h.SendClose(1000);
        await h.Connection.Completion.WaitAsync(EngineHarness.Timeout);

        await Assert.ThrowsAsync<WebSocketClosedException>(() => h.Connection.SendTextAsync("too late").AsTask());
        await Assert.ThrowsAsync<WebSocketClosedException>(() => h.Connection.SendBinaryAsync(new byte[3]).AsTask());
    }

    [Theory]
    [InlineData(1005)]
    [InlineData(1006)]
    [InlineData(999)]
    [InlineData(5000)]
    public async Task CloseAsync_refuses_codes_that_may_not_be_sent(int code)
    {
        await using var h = EngineHarness.Start(Role.Server);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => h.Connection.CloseAsync((ushort)code));
        Assert.False(h.Connection.IsClosing);
    }

    [Fact]
    public async Task CloseAsync_truncates_a_long_reason_to_fit_the_control_frame()
    {
        await using var h = EngineHarness.Start(Role.Server);

        Task closing = h.Connection.CloseAsync(1000, new string('é', 200));
        RawFrame close = await h.ExpectFrameAsync();
        h.SendClose(1000);
        await closing.WaitAsync(EngineHarness.Timeout);

        Assert.Equal(124, close.Payload.Length); // 2 + 61 × 2 bytes: the 62nd 'é' would exceed 125
        Assert.Equal(new string('é', 61), close.CloseReason);
    }

    [Fact]
    public async Task Abort_ends_the_connection_with_1006_and_no_close_frame()
    {
        await using var h = EngineHarness.Start(Role.Server);
        Task<WebSocketMessage> receive = Receive(h);

        h.Connection.Abort("test");

        Assert.True((await receive).IsClose);
        await h.Connection.Completion.WaitAsync(EngineHarness.Timeout);
        Assert.Equal(CloseCode.AbnormalClosure, h.Connection.CloseStatus);
        Assert.True(h.Transport.Aborted.Task.IsCompleted);
        await h.ExpectEndAsync();
    }

    [Fact]
    public async Task Canceling_a_receive_aborts_the_connection()
    {
        await using var h = EngineHarness.Start(Role.Server);
        using var cts = new CancellationTokenSource();
        Task<WebSocketMessage> receive = h.Connection.ReceiveAsync(cts.Token).AsTask();

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receive.WaitAsync(EngineHarness.Timeout));
        await h.Connection.Completion.WaitAsync(EngineHarness.Timeout);
        Assert.Equal(CloseCode.AbnormalClosure, h.Connection.CloseStatus);
    }
}
