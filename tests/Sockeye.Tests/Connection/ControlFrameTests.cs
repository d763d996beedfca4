using Sockeye.Protocol;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Connection;

public class ControlFrameTests
{
    [Fact]
    public async Task Server_answers_ping_with_pong_carrying_the_same_payload()
    {
        await using var h = EngineHarness.Start(Role.Server);

        h.Send(Opcode.Ping, "Hello"u8); // no receive pending: control frames are answered anyway

        Assert.Equal(Bytes.Hex("8a 05 48 65 6c 6c 6f"), (await h.ExpectFrameAsync()).Wire);
    }

    [Fact]
    public async Task Server_answers_empty_and_125_byte_pings()
    {
        await using var h = EngineHarness.Start(Role.Server);
        byte[] big = Bytes.Pattern(125);

        h.Send(Opcode.Ping, ReadOnlySpan<byte>.Empty);
        h.Send(Opcode.Ping, big);

        Assert.Equal(Bytes.Hex("8a 00"), (await h.ExpectFrameAsync()).Wire);
        Assert.Equal(Bytes.Concat([0x8a, 125], big), (await h.ExpectFrameAsync()).Wire);
    }

    [Fact]
    public async Task Client_answers_unmasked_ping_with_masked_pong()
    {
        await using var h = EngineHarness.Start(Role.Client);

        h.SendRaw(Bytes.Hex("89 05 48 65 6c 6c 6f"));

        RawFrame pong = await h.ExpectFrameAsync();
        Assert.Equal(Opcode.Pong, pong.Opcode);
        Assert.True(pong.Fin);
        Assert.True(pong.Masked);
        Assert.Equal("Hello", pong.Text);
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public async Task Unsolicited_pong_is_ignored(Role role)
    {
        await using var h = EngineHarness.Start(role);

        h.Send(Opcode.Pong, "unsolicited"u8);
        h.Send(Opcode.Ping, "after"u8);

        // The first thing sent is the answer to the ping: nothing answered the pong, and the connection stays open.
        RawFrame first = await h.ExpectFrameAsync();
        Assert.Equal(Opcode.Pong, first.Opcode);
        Assert.Equal("after", first.Text);
        Assert.False(h.Connection.IsClosing);
    }

    [Fact]
    public async Task Server_answers_ping_between_fragments_and_still_delivers_the_message()
    {
        await using var h = EngineHarness.Start(Role.Server);
        _ = h.RunEchoAsync();

        h.Send(Opcode.Text, "Hel", fin: false);
        h.Send(Opcode.Ping, "p"u8);
        h.Send(Opcode.Continuation, "lo");

        Assert.Equal(Bytes.Hex("8a 01 70"), (await h.ExpectFrameAsync()).Wire);
        Assert.Equal(Bytes.Hex("81 05 48 65 6c 6c 6f"), (await h.ExpectFrameAsync()).Wire);
    }
}
