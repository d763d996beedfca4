using System.Text;
using Sockeye.Protocol;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Connection;

public class EchoTests
{
    [Fact]
    public async Task Server_echoes_masked_Hello_as_unmasked_Hello()
    {
        await using var h = EngineHarness.Start(Role.Server);
        _ = h.RunEchoAsync();

        h.SendRaw(Bytes.Hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"));

        Assert.Equal(Bytes.Hex("81 05 48 65 6c 6c 6f"), (await h.ExpectFrameAsync()).Wire);
    }

    [Fact]
    public async Task Server_echoes_fragmented_Hel_lo_as_one_frame()
    {
        await using var h = EngineHarness.Start(Role.Server);
        _ = h.RunEchoAsync();

        h.Send(Opcode.Text, "Hel", fin: false);
        h.Send(Opcode.Continuation, "lo");

        Assert.Equal(Bytes.Hex("81 05 48 65 6c 6c 6f"), (await h.ExpectFrameAsync()).Wire);
    }

    [Fact]
    public async Task Server_echoes_256_byte_binary_with_16_bit_length()
    {
        await using var h = EngineHarness.Start(Role.Server);
        _ = h.RunEchoAsync();
        byte[] data = Bytes.Pattern(256);

        h.Send(Opcode.Binary, data);

        Assert.Equal(Bytes.Concat(Bytes.Hex("82 7E 01 00"), data), (await h.ExpectFrameAsync()).Wire);
    }

    [Fact]
    public async Task Server_echoes_64_KiB_binary_with_64_bit_length()
    {
        await using var h = EngineHarness.Start(Role.Server);
        _ = h.RunEchoAsync();
        byte[] data = Bytes.Pattern(65536);

        h.Send(Opcode.Binary, data);

        Assert.Equal(Bytes.Concat(Bytes.Hex("82 7F 00 00 00 00 00 01 00 00"), data), (await h.ExpectFrameAsync()).Wire);
    }

    [Fact]
    public async Task Server_echoes_a_message_fed_one_byte_at_a_time()
    {
        await using var h = EngineHarness.Start(Role.Server);
        _ = h.RunEchoAsync();
        byte[] wire = Bytes.Concat(
            RawFrame.Build(Opcode.Text, "κόσμε", fin: false),
            RawFrame.Build(Opcode.Ping, "p"u8),
            RawFrame.Build(Opcode.Continuation, " 😀"));

        foreach (byte b in wire)
        {
            h.SendRaw([b]);
        }

        Assert.Equal(Bytes.Hex("8a 01 70"), (await h.ExpectFrameAsync()).Wire);
        RawFrame echo = await h.ExpectFrameAsync();
        Assert.Equal(Bytes.Concat(Bytes.Hex("81 0f"), Encoding.UTF8.GetBytes("κόσμε 😀")), echo.Wire);
    }

    [Theory]
    [InlineData((byte)Opcode.Text)]
    [InlineData((byte)Opcode.Binary)]
    public async Task Server_echoes_empty_messages(byte opcodeValue)
    {
        var opcode = (Opcode)opcodeValue;
        await using var h = EngineHarness.Start(Role.Server);
        _ = h.RunEchoAsync();

        h.Send(opcode, ReadOnlySpan<byte>.Empty);

        Assert.Equal(new byte[] { (byte)(0x80 | (byte)opcode), 0x00 }, (await h.ExpectFrameAsync()).Wire);
    }

    [Fact]
    public async Task Server_delivers_messages_in_order_with_their_types()
    {
        await using var h = EngineHarness.Start(Role.Server);

        h.Send(Opcode.Text, "one");
        h.Send(Opcode.Binary, [1, 2, 3]);
        h.Send(Opcode.Binary, [4], fin: false);
        h.Send(Opcode.Continuation, [5], fin: false);
        h.Send(Opcode.Continuation, [6]);

        WebSocketMessage first = await h.Connection.ReceiveAsync().AsTask().WaitAsync(EngineHarness.Timeout);
        Assert.Equal(MessageType.Text, first.Type);
        Assert.Equal("one", first.GetText());
        WebSocketMessage second = await h.Connection.ReceiveAsync().AsTask().WaitAsync(EngineHarness.Timeout);
        Assert.Equal(MessageType.Binary, second.Type);
        Assert.Equal(new byte[] { 1, 2, 3 }, second.ToArray());
        WebSocketMessage third = await h.Connection.ReceiveAsync().AsTask().WaitAsync(EngineHarness.Timeout);
        Assert.Equal(MessageType.Binary, third.Type);
        Assert.True(third.EndOfMessage);
        Assert.Equal(new byte[] { 4, 5, 6 }, third.ToArray());
    }

    [Fact]
    public async Task Client_receives_unmasked_Hello()
    {
        await using var h = EngineHarness.Start(Role.Client);

        h.SendRaw(Bytes.Hex("81 05 48 65 6c 6c 6f"));

        WebSocketMessage message = await h.Connection.ReceiveAsync().AsTask().WaitAsync(EngineHarness.Timeout);
        Assert.Equal(MessageType.Text, message.Type);
        Assert.True(message.EndOfMessage);
        Assert.Equal("Hello", message.GetText());
    }

    [Fact]
    public async Task Client_echo_is_masked_and_unmasks_to_the_same_payload()
    {
        await using var h = EngineHarness.Start(Role.Client);
        _ = h.RunEchoAsync();

        h.SendRaw(Bytes.Hex("01 03 48 65 6c"), Bytes.Hex("80 02 6c 6f"));

        RawFrame echo = await h.ExpectFrameAsync();
        Assert.True(echo.Masked);
        Assert.True(echo.Fin);
        Assert.Equal(Opcode.Text, echo.Opcode);
        Assert.Equal("Hello", echo.Text);
        Assert.Equal(0x85, echo.Wire[1]);
    }
}
