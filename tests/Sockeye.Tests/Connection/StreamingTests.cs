using Sockeye.Protocol;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Connection;

public class StreamingTests
{
    private static Task<WebSocketMessage> ReceivePart(EngineHarness h) =>
        h.Connection.ReceivePartAsync().AsTask().WaitAsync(EngineHarness.Timeout);

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public async Task ReceivePartAsync_delivers_each_fragment_with_EndOfMessage_on_the_last(Role role)
    {
        await using var h = EngineHarness.Start(role);

        Task<WebSocketMessage> first = ReceivePart(h);
        h.Send(Opcode.Text, "Hel", fin: false);
        WebSocketMessage part1 = await first;
        Assert.Equal(MessageType.Text, part1.Type);
        Assert.Equal("Hel", part1.GetText());
        Assert.False(part1.EndOfMessage);

        Task<WebSocketMessage> second = ReceivePart(h);
        h.Send(Opcode.Continuation, "lo");
        WebSocketMessage part2 = await second;
        Assert.Equal(MessageType.Text, part2.Type);
        Assert.Equal("lo", part2.GetText());
        Assert.True(part2.EndOfMessage);
    }

    [Fact]
    public async Task ReceivePartAsync_delivers_a_frame_as_its_bytes_arrive()
    {
        await using var h = EngineHarness.Start(Role.Server);
        byte[] frame = RawFrame.Build(Opcode.Binary, [1, 2, 3, 4, 5, 6]);

        Task<WebSocketMessage> first = ReceivePart(h);
        h.SendRaw(frame[..(6 + 2)]); // header + 2 payload bytes
        WebSocketMessage part1 = await first;
        Assert.Equal(new byte[] { 1, 2 }, part1.ToArray());
        Assert.False(part1.EndOfMessage);

        Task<WebSocketMessage> second = ReceivePart(h);
        h.SendRaw(frame[(6 + 2)..]);
        WebSocketMessage part2 = await second;
        Assert.Equal(new byte[] { 3, 4, 5, 6 }, part2.ToArray());
        Assert.True(part2.EndOfMessage);
    }

    [Fact]
    public async Task ReceivePartAsync_delivers_an_empty_final_fragment()
    {
        await using var h = EngineHarness.Start(Role.Server);

        h.Send(Opcode.Binary, [9], fin: false);
        h.Send(Opcode.Continuation, ReadOnlySpan<byte>.Empty);

        WebSocketMessage part1 = await ReceivePart(h);
        Assert.Equal(new byte[] { 9 }, part1.ToArray());
        Assert.False(part1.EndOfMessage);
        WebSocketMessage part2 = await ReceivePart(h);
        Assert.Equal(0, part2.Payload.Length);
        Assert.True(part2.EndOfMessage);
    }

    [Fact]
    public async Task ReceivePartAsync_is_not_limited_by_MaxMessageSize_but_by_MaxFrameSize()
    {
        await using var h = EngineHarness.Start(Role.Server, o =>
        {
            o.MaxMessageSize = 1000;
            o.MaxFrameSize = 1000;
        });

        long total = 0;
        for (int i = 0; i < 3; i++)
        {
            Task<WebSocketMessage> receive = ReceivePart(h);
            h.Send(i == 0 ? Opcode.Binary : Opcode.Continuation, new byte[800], fin: false);
            total += (await receive).Payload.Length;
        }

        Assert.Equal(2400, total); // beyond MaxMessageSize, accepted because it is streamed
        Task<WebSocketMessage> tooBig = ReceivePart(h);
        h.Send(Opcode.Continuation, new byte[1001]);
        await h.ExpectCloseThenEndAsync(CloseCode.MessageTooBig);
        Assert.True((await tooBig).IsClose);
    }

    [Fact]
    public async Task Whole_and_part_receives_can_alternate_between_messages()
    {
        await using var h = EngineHarness.Start(Role.Server);

        h.Send(Opcode.Text, "whole");
        h.Send(Opcode.Text, "streamed");

        Assert.Equal("whole", (await h.Connection.ReceiveAsync().AsTask().WaitAsync(EngineHarness.Timeout)).GetText());
        WebSocketMessage part = await ReceivePart(h);
        Assert.Equal("streamed", part.GetText());
        Assert.True(part.EndOfMessage);
    }

    [Fact]
    public async Task Overlapping_receives_are_refused()
    {
        await using var h = EngineHarness.Start(Role.Server);
        ValueTask<WebSocketMessage> pending = h.Connection.ReceiveAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() => h.Connection.ReceiveAsync().AsTask());

        h.Send(Opcode.Text, "ok");
        Assert.Equal("ok", (await pending.AsTask().WaitAsync(EngineHarness.Timeout)).GetText());
    }
}
