using System.Text;
using Sockeye.Protocol;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Connection;

/// <summary>
/// §7.1.7 Fail the WebSocket Connection: each violation is answered with exactly one close frame carrying the right
/// code, the transport is closed, and nothing that follows the bad frame is delivered or answered.
/// </summary>
public class FailureTests
{
    private static readonly TimeSpan Timeout = EngineHarness.Timeout;

    /// <summary>Sends <paramref name="bad"/> followed by a valid text frame and a ping, with a receive pending.</summary>
    private static async Task AssertFailsWith(EngineHarness h, ushort code, params byte[][] bad)
    {
        Task<WebSocketMessage> receive = h.Connection.ReceiveAsync().AsTask();
        bool mask = h.PeerMasks;
        h.SendRaw([.. bad, RawFrame.Build(Opcode.Text, "after"u8, mask: mask), RawFrame.Build(Opcode.Ping, "after"u8, mask: mask)]);

        await h.ExpectCloseThenEndAsync(code);
        WebSocketMessage message = await receive.WaitAsync(Timeout);
        Assert.True(message.IsClose, $"expected Close, got {message.Type} '{message.GetText()}'");
        Assert.True((await h.Connection.ReceiveAsync().AsTask().WaitAsync(Timeout)).IsClose);
        await h.Connection.Completion.WaitAsync(Timeout);
        Assert.Equal(code, h.Connection.CloseStatus);
    }

    [Fact]
    public async Task Server_fails_unmasked_frame_with_1002()
    {
        await using var h = EngineHarness.Start(Role.Server);
        await AssertFailsWith(h, CloseCode.ProtocolError, RawFrame.Build(Opcode.Text, "Hello", mask: false));
    }

    [Fact]
    public async Task Client_fails_masked_frame_with_1002()
    {
        await using var h = EngineHarness.Start(Role.Client);
        await AssertFailsWith(h, CloseCode.ProtocolError, RawFrame.Build(Opcode.Text, "Hello", mask: true));
    }

    [Fact]
    public async Task Server_fails_unmasked_ping_with_1002()
    {
        await using var h = EngineHarness.Start(Role.Server);
        await AssertFailsWith(h, CloseCode.ProtocolError, RawFrame.Build(Opcode.Ping, "x"u8, mask: false));
    }

    [Fact]
    public async Task Server_fails_unmasked_frame_with_1002_without_waiting_for_a_receive()
    {
        // The read loop's own rule: "frames that are invalid whatever the mode are failed at once, without waiting
        // for the application". A masking violation is invalid whatever the receive mode.
        await using var h = EngineHarness.Start(Role.Server);

        h.SendRaw(RawFrame.Build(Opcode.Text, "Hello", mask: false));

        RawFrame? close = await RawFrame.ReadAsync(h.Transport.PeerInput, TimeSpan.FromSeconds(3));
        Assert.Equal(Opcode.Close, close?.Opcode);
        Assert.Equal(CloseCode.ProtocolError, close!.CloseCode);
    }

    [Theory]
    [InlineData(Role.Server, 0b100)]
    [InlineData(Role.Server, 0b010)]
    [InlineData(Role.Client, 0b001)]
    public async Task Fails_RSV_bits_without_extension_with_1002(Role role, byte rsv)
    {
        await using var h = EngineHarness.Start(role);
        await AssertFailsWith(h, CloseCode.ProtocolError, RawFrame.Build(Opcode.Text, "Hello"u8, mask: h.PeerMasks, rsv: rsv));
    }

    [Theory]
    [InlineData(Role.Server, 3)]
    [InlineData(Role.Server, 0xB)]
    [InlineData(Role.Client, 7)]
    [InlineData(Role.Client, 0xF)]
    public async Task Fails_reserved_opcode_with_1002(Role role, byte opcode)
    {
        await using var h = EngineHarness.Start(role);
        await AssertFailsWith(h, CloseCode.ProtocolError, RawFrame.Build((Opcode)opcode, "x"u8, mask: h.PeerMasks));
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public async Task Fails_ping_longer_than_125_bytes_with_1002(Role role)
    {
        await using var h = EngineHarness.Start(role);
        await AssertFailsWith(h, CloseCode.ProtocolError, RawFrame.Build(Opcode.Ping, new byte[126], mask: h.PeerMasks));
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public async Task Fails_fragmented_ping_with_1002(Role role)
    {
        await using var h = EngineHarness.Start(role);
        await AssertFailsWith(h, CloseCode.ProtocolError, RawFrame.Build(Opcode.Ping, "x"u8, fin: false, mask: h.PeerMasks));
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public async Task Fails_continuation_without_a_started_message_with_1002(Role role)
    {
        await using var h = EngineHarness.Start(role);
        await AssertFailsWith(h, CloseCode.ProtocolError, RawFrame.Build(Opcode.Continuation, "x"u8, mask: h.PeerMasks));
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public async Task Fails_new_data_frame_inside_a_fragmented_message_with_1002(Role role)
    {
        await using var h = EngineHarness.Start(role);
        await AssertFailsWith(h, CloseCode.ProtocolError,
            RawFrame.Build(Opcode.Text, "Hel"u8, fin: false, mask: h.PeerMasks),
            RawFrame.Build(Opcode.Text, "lo"u8, mask: h.PeerMasks));
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public async Task Fails_64_bit_length_with_top_bit_set_with_1002(Role role)
    {
        await using var h = EngineHarness.Start(role);
        byte[] header = role == Role.Server
            ? Bytes.Hex("82 FF 80 00 00 00 00 00 00 01 37 fa 21 3d")
            : Bytes.Hex("82 7F 80 00 00 00 00 00 00 01");
        await AssertFailsWith(h, CloseCode.ProtocolError, header);
    }

    [Theory]
    [InlineData(Role.Server, "ff")]
    [InlineData(Role.Server, "ed a0 80")]
    [InlineData(Role.Client, "c0 80")]
    [InlineData(Role.Client, "f4 90 80 80")]
    public async Task Fails_invalid_UTF8_text_with_1007(Role role, string hex)
    {
        await using var h = EngineHarness.Start(role);
        await AssertFailsWith(h, CloseCode.InvalidPayloadData, RawFrame.Build(Opcode.Text, Bytes.Hex("48 69 " + hex), mask: h.PeerMasks));
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public async Task Fails_text_ending_inside_a_UTF8_sequence_with_1007(Role role)
    {
        await using var h = EngineHarness.Start(role);
        await AssertFailsWith(h, CloseCode.InvalidPayloadData,
            RawFrame.Build(Opcode.Text, Bytes.Hex("48 e2"), fin: false, mask: h.PeerMasks),
            RawFrame.Build(Opcode.Continuation, Bytes.Hex("82"), mask: h.PeerMasks)); // € is e2 82 ac
    }

    [Fact]
    public async Task Accepts_a_character_split_across_fragments()
    {
        await using var h = EngineHarness.Start(Role.Server);
        Task<WebSocketMessage> receive = h.Connection.ReceiveAsync().AsTask();

        h.Send(Opcode.Text, Bytes.Hex("e2"), fin: false);
        h.Send(Opcode.Continuation, Bytes.Hex("82"), fin: false);
        h.Send(Opcode.Continuation, Bytes.Hex("ac"));

        Assert.Equal("€", (await receive.WaitAsync(Timeout)).GetText());
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public async Task Fails_invalid_UTF8_fast_before_the_rest_of_the_message_arrives(Role role)
    {
        await using var h = EngineHarness.Start(role);
        Task<WebSocketMessage> receive = h.Connection.ReceiveAsync().AsTask();
        // A 1000-byte text frame whose first bytes can never be valid UTF-8 (F4 90 is above U+10FFFF).
        byte[] payload = new byte[1000];
        Encoding.ASCII.GetBytes("Hello ").CopyTo(payload, 0);
        payload[6] = 0xF4;
        payload[7] = 0x90;
        byte[] frame = RawFrame.Build(Opcode.Text, payload, mask: h.PeerMasks);
        int headerSize = h.PeerMasks ? 8 : 4;

        h.SendRaw(frame[..(headerSize + 8)]); // the rest of the message is never sent

        await h.ExpectCloseThenEndAsync(CloseCode.InvalidPayloadData);
        Assert.True((await receive.WaitAsync(Timeout)).IsClose);
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public async Task Fails_invalid_UTF8_fast_in_a_fragmented_message(Role role)
    {
        await using var h = EngineHarness.Start(role);
        Task<WebSocketMessage> receive = h.Connection.ReceiveAsync().AsTask();

        h.Send(Opcode.Text, "valid start ", fin: false);
        h.Send(Opcode.Continuation, Bytes.Hex("ed a0"), fin: false); // a surrogate can never be completed

        await h.ExpectCloseThenEndAsync(CloseCode.InvalidPayloadData);
        Assert.True((await receive.WaitAsync(Timeout)).IsClose);
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public async Task Fails_message_over_MaxMessageSize_with_1009(Role role)
    {
        await using var h = EngineHarness.Start(role, o => o.MaxMessageSize = 1000);
        await AssertFailsWith(h, CloseCode.MessageTooBig, RawFrame.Build(Opcode.Binary, new byte[1001], mask: h.PeerMasks));
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public async Task Accepts_message_of_exactly_MaxMessageSize(Role role)
    {
        await using var h = EngineHarness.Start(role, o => o.MaxMessageSize = 1000);
        Task<WebSocketMessage> receive = h.Connection.ReceiveAsync().AsTask();

        h.Send(Opcode.Binary, new byte[600], fin: false);
        h.Send(Opcode.Continuation, new byte[400]);

        Assert.Equal(1000, (await receive.WaitAsync(Timeout)).Payload.Length);
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public async Task Fails_message_over_MaxMessageSize_across_fragments_with_1009(Role role)
    {
        await using var h = EngineHarness.Start(role, o => o.MaxMessageSize = 1000);
        await AssertFailsWith(h, CloseCode.MessageTooBig,
            RawFrame.Build(Opcode.Text, new byte[600], fin: false, mask: h.PeerMasks),
            RawFrame.Build(Opcode.Continuation, new byte[400], fin: false, mask: h.PeerMasks),
            RawFrame.Build(Opcode.Continuation, new byte[1], mask: h.PeerMasks));
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public async Task Fails_frame_over_MaxFrameSize_with_1009(Role role)
    {
        await using var h = EngineHarness.Start(role, o =>
        {
            o.MaxMessageSize = 10_000;
            o.MaxFrameSize = 500;
        });
        await AssertFailsWith(h, CloseCode.MessageTooBig,
            RawFrame.Build(Opcode.Binary, new byte[500], fin: false, mask: h.PeerMasks),
            RawFrame.Build(Opcode.Continuation, new byte[501], mask: h.PeerMasks));
    }

    [Fact]
    public async Task Fails_oversized_frame_from_its_header_alone()
    {
        await using var h = EngineHarness.Start(Role.Server, o => o.MaxMessageSize = 1000);
        Task<WebSocketMessage> receive = h.Connection.ReceiveAsync().AsTask();

        h.SendRaw(RawFrame.Build(Opcode.Binary, [], declaredLength: 1L << 40)); // header only: 1 TiB announced

        await h.ExpectCloseThenEndAsync(CloseCode.MessageTooBig);
        Assert.True((await receive.WaitAsync(Timeout)).IsClose);
    }

    [Theory]
    [InlineData(Role.Server, "03")] // 1-byte body
    [InlineData(Role.Server, "03 e7")] // 999
    [InlineData(Role.Client, "03 ee")] // 1006
    [InlineData(Role.Client, "13 88")] // 5000
    public async Task Fails_invalid_close_payload_with_1002(Role role, string body)
    {
        await using var h = EngineHarness.Start(role);
        await AssertFailsWith(h, CloseCode.ProtocolError, RawFrame.Build(Opcode.Close, Bytes.Hex(body), mask: h.PeerMasks));
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public async Task Fails_close_reason_that_is_not_UTF8_with_1007(Role role)
    {
        await using var h = EngineHarness.Start(role);
        await AssertFailsWith(h, CloseCode.InvalidPayloadData, RawFrame.Build(Opcode.Close, Bytes.Hex("03 e8 ff"), mask: h.PeerMasks));
    }
}
