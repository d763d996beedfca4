using System.Buffers;
using System.Text;
using Sockeye.Extensions;
using Sockeye.Protocol;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Extensions;

/// <summary>
/// permessage-deflate in the engine, byte for byte (RFC 7692 §6, §7.2): the peer is the test, writing and reading raw
/// frames, and compressing with System.IO.Compression rather than Sockeye's zlib binding.
/// </summary>
public class DeflateEngineTests
{
    private const byte Rsv1 = PerMessageDeflate.Rsv1;

    private static PerMessageDeflateParameters Params(bool serverNoContext = false, bool clientNoContext = false, int serverBits = 15, int clientBits = 15) =>
        new(serverNoContext, clientNoContext, serverBits, clientBits, "permessage-deflate");

    private static EngineHarness Start(Role role, PerMessageDeflateParameters? p = null, Action<WebSocketOptions>? configure = null) =>
        EngineHarness.Start(role, o =>
        {
            o.Deflate = new PerMessageDeflateOptions { Threshold = 0 };
            configure?.Invoke(o);
        }, p ?? Params());

    private static byte[] Frame(Opcode opcode, byte[] payload, bool fin = true, byte rsv = Rsv1, bool mask = true) =>
        RawFrame.Build(opcode, payload, fin, mask, rsv: rsv);

    [Fact]
    public async Task Client_inflates_the_RFC_7692_example_Hello()
    {
        await using var h = Start(Role.Client);

        h.SendRaw(Bytes.Hex("c1 07 f2 48 cd c9 c9 07 00")); // §7.2.3.1

        WebSocketMessage m = await h.Connection.ReceiveAsync();
        Assert.Equal("Hello", m.GetText());
    }

    [Fact]
    public async Task Client_inflates_the_RFC_7692_fragmented_example()
    {
        await using var h = Start(Role.Client);

        h.SendRaw(Bytes.Hex("41 03 f2 48 cd"), Bytes.Hex("80 04 c9 c9 07 00")); // §7.2.3.1, RSV1 on the first frame only

        Assert.Equal("Hello", (await h.Connection.ReceiveAsync()).GetText());
    }

    [Theory]
    [InlineData("c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00")]            // §7.2.3.3 a stored (uncompressed) block
    [InlineData("c1 08 f3 48 cd c9 c9 07 00 00")]                     // §7.2.3.4 BFINAL set
    [InlineData("c1 0d f2 48 05 00 00 00 ff ff ca c9 c9 07 00")]      // §7.2.3.5 two blocks
    public async Task Client_inflates_the_other_RFC_7692_examples(string wire)
    {
        await using var h = Start(Role.Client);

        h.SendRaw(Bytes.Hex(wire));

        Assert.Equal("Hello", (await h.Connection.ReceiveAsync()).GetText());
    }

    [Fact]
    public async Task After_a_final_block_the_next_message_still_uses_the_shared_window()
    {
        await using var h = Start(Role.Client);

        h.SendRaw(Bytes.Hex("c1 08 f3 48 cd c9 c9 07 00 00")); // "Hello" ending with BFINAL
        h.SendRaw(Bytes.Hex("c1 05 f2 00 11 00 00"));          // §7.2.3.2: "Hello" as a back-reference into the window

        Assert.Equal("Hello", (await h.Connection.ReceiveAsync()).GetText());
        Assert.Equal("Hello", (await h.Connection.ReceiveAsync()).GetText());
    }

    [Fact]
    public async Task Server_sends_Hello_as_in_RFC_7692_and_shares_the_window_for_the_second()
    {
        await using var h = Start(Role.Server);

        await h.Connection.SendTextAsync("Hello");
        await h.Connection.SendTextAsync("Hello");

        Assert.Equal(Bytes.Hex("c1 07 f2 48 cd c9 c9 07 00"), (await h.ExpectFrameAsync()).Wire);  // §7.2.3.1
        Assert.Equal(Bytes.Hex("c1 05 f2 00 11 00 00"), (await h.ExpectFrameAsync()).Wire);        // §7.2.3.2
    }

    [Fact]
    public async Task Server_without_context_takeover_compresses_each_message_alone()
    {
        await using var h = Start(Role.Server, Params(serverNoContext: true));

        await h.Connection.SendTextAsync("Hello");
        await h.Connection.SendTextAsync("Hello");

        Assert.Equal(Bytes.Hex("c1 07 f2 48 cd c9 c9 07 00"), (await h.ExpectFrameAsync()).Wire);
        Assert.Equal(Bytes.Hex("c1 07 f2 48 cd c9 c9 07 00"), (await h.ExpectFrameAsync()).Wire);
    }

    [Fact]
    public async Task Server_inflates_messages_from_an_independent_compressor_and_echoes_them_compressed()
    {
        await using var h = Start(Role.Server, Params(clientNoContext: true));
        _ = h.RunEchoAsync();
        using var inflater = new ReferenceDeflate.Inflater();
        string json = "{\"id\":1,\"type\":\"tick\",\"symbol\":\"ABC\",\"price\":101.25,\"size\":300}";

        for (int i = 0; i < 5; i++)
        {
            h.SendRaw(Frame(Opcode.Text, ReferenceDeflate.Compress(Encoding.UTF8.GetBytes(json))));
            RawFrame echo = await h.ExpectFrameAsync();
            Assert.Equal(Rsv1, echo.Rsv);
            Assert.Equal(Opcode.Text, echo.Opcode);
            Assert.Equal(json, Encoding.UTF8.GetString(inflater.Message(echo.Payload)));
            if (i > 0)
            {
                Assert.True(echo.Payload.Length < 12, $"context takeover: a repeated message is a few bytes, got {echo.Payload.Length}");
            }
        }
    }

    [Fact]
    public async Task Uncompressed_messages_are_allowed_on_a_deflate_connection()
    {
        await using var h = Start(Role.Server);

        h.Send(Opcode.Text, "plain");
        h.SendRaw(Frame(Opcode.Text, ReferenceDeflate.Compress("packed"u8)));
        h.Send(Opcode.Binary, [1, 2, 3]);

        Assert.Equal("plain", (await h.Connection.ReceiveAsync()).GetText());
        Assert.Equal("packed", (await h.Connection.ReceiveAsync()).GetText());
        Assert.Equal([1, 2, 3], (await h.Connection.ReceiveAsync()).ToArray());
    }

    [Fact]
    public async Task A_compressed_message_in_many_fragments_with_control_frames_between()
    {
        await using var h = Start(Role.Server);
        byte[] text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("žluťoučký kůň ", 500)));
        byte[] packed = ReferenceDeflate.Compress(text);
        int third = packed.Length / 3;

        h.SendRaw(Frame(Opcode.Text, packed[..third], fin: false));
        h.Send(Opcode.Ping, "p");
        h.SendRaw(Frame(Opcode.Continuation, packed[third..(2 * third)], fin: false, rsv: 0));
        h.SendRaw(Frame(Opcode.Continuation, packed[(2 * third)..], rsv: 0));

        Assert.Equal(text, (await h.Connection.ReceiveAsync()).ToArray());
        Assert.Equal(Opcode.Pong, (await h.ExpectFrameAsync()).Opcode);
    }

    [Fact]
    public async Task RSV1_on_a_continuation_frame_fails_with_1002()
    {
        await using var h = Start(Role.Server);
        _ = h.RunEchoAsync();
        byte[] packed = ReferenceDeflate.Compress("Hello, world"u8);

        h.SendRaw(Frame(Opcode.Text, packed[..4], fin: false));
        h.SendRaw(Frame(Opcode.Continuation, packed[4..], rsv: Rsv1));

        await h.ExpectCloseThenEndAsync(CloseCode.ProtocolError);
    }

    [Fact]
    public async Task RSV1_on_a_control_frame_fails_with_1002()
    {
        await using var h = Start(Role.Server);
        _ = h.RunEchoAsync();

        h.SendRaw(Frame(Opcode.Ping, [1, 2], rsv: Rsv1));

        await h.ExpectCloseThenEndAsync(CloseCode.ProtocolError);
    }

    [Fact]
    public async Task RSV1_without_a_negotiated_deflate_fails_with_1002()
    {
        await using var h = EngineHarness.Start(Role.Server);
        _ = h.RunEchoAsync();

        h.SendRaw(Frame(Opcode.Text, ReferenceDeflate.Compress("Hello"u8)));

        await h.ExpectCloseThenEndAsync(CloseCode.ProtocolError);
    }

    [Fact]
    public async Task Corrupt_deflate_data_fails_with_1007()
    {
        await using var h = Start(Role.Server);
        _ = h.RunEchoAsync();

        h.SendRaw(Frame(Opcode.Binary, [0xff, 0xff, 0xff, 0xff, 0x00])); // BTYPE=11 is reserved

        RawFrame close = await h.ExpectCloseThenEndAsync(CloseCode.InvalidPayloadData);
        Assert.Contains("compressed", close.CloseReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Text_is_validated_after_inflation()
    {
        await using var h = Start(Role.Server);
        _ = h.RunEchoAsync();

        h.SendRaw(Frame(Opcode.Text, ReferenceDeflate.Compress([0x48, 0x69, 0xc0, 0xaf])));

        await h.ExpectCloseThenEndAsync(CloseCode.InvalidPayloadData);
    }

    [Fact]
    public async Task An_incompressible_message_of_exactly_the_limit_fits_though_deflate_made_it_larger()
    {
        await using var h = Start(Role.Server, configure: o => o.MaxMessageSize = 64 * 1024);
        byte[] data = new byte[64 * 1024];
        new Random(11).NextBytes(data);
        byte[] packed = ReferenceDeflate.Compress(data);
        Assert.True(packed.Length > data.Length);

        h.SendRaw(Frame(Opcode.Binary, packed));

        Assert.Equal(data, (await h.Connection.ReceiveAsync()).ToArray());
    }

    [Fact]
    public async Task One_byte_more_than_the_limit_after_inflation_is_1009()
    {
        await using var h = Start(Role.Server, configure: o => o.MaxMessageSize = 64 * 1024);
        _ = h.RunEchoAsync();

        h.SendRaw(Frame(Opcode.Binary, ReferenceDeflate.Compress(new byte[64 * 1024 + 1])));

        await h.ExpectCloseThenEndAsync(CloseCode.MessageTooBig);
    }

    [Fact]
    public async Task A_streamed_compressed_message_arrives_in_bounded_parts()
    {
        await using var h = Start(Role.Server, configure: o => (o.MaxMessageSize, o.MaxFrameSize) = (1024, 1024 * 1024));
        byte[] data = new byte[4 * 1024 * 1024];
        new Random(7).NextBytes(data.AsSpan(0, 4096));
        h.SendRaw(Frame(Opcode.Binary, ReferenceDeflate.Compress(data)));

        var received = new MemoryStream();
        int parts = 0, largest = 0;
        while (true)
        {
            WebSocketMessage part = await h.Connection.ReceivePartAsync();
            parts++;
            largest = Math.Max(largest, (int)part.Payload.Length);
            foreach (ReadOnlyMemory<byte> segment in part.Payload)
            {
                received.Write(segment.Span);
            }

            if (part.EndOfMessage)
            {
                break;
            }
        }

        Assert.Equal(data, received.ToArray());
        Assert.True(largest <= 64 * 1024, $"largest part {largest}");
        Assert.True(parts >= 64);
    }

    [Fact]
    public async Task Small_messages_and_opted_out_messages_go_uncompressed()
    {
        await using var h = Start(Role.Server, configure: o => o.Deflate!.Threshold = 32);

        await h.Connection.SendTextAsync(new string('a', 31));
        await h.Connection.SendTextAsync(new string('a', 32));
        await h.Connection.SendBinaryAsync(new byte[100], SendOptions.NoCompression);
        await h.Connection.SendAsync(MessageType.Binary, new ReadOnlySequence<byte>(new byte[100]));

        Assert.Equal(0, (await h.ExpectFrameAsync()).Rsv);
        RawFrame compressed = await h.ExpectFrameAsync();
        Assert.Equal(Rsv1, compressed.Rsv);
        Assert.Equal(new string('a', 32), Encoding.ASCII.GetString(ReferenceDeflate.Decompress(compressed.Payload)));
        RawFrame optedOut = await h.ExpectFrameAsync();
        Assert.Equal((0, 100), (optedOut.Rsv, optedOut.Payload.Length));
        Assert.Equal(Rsv1, (await h.ExpectFrameAsync()).Rsv);
    }

    [Fact]
    public async Task Client_masks_compressed_frames_and_the_reference_inflates_them()
    {
        await using var h = Start(Role.Client);
        string text = string.Concat(Enumerable.Repeat("masked and compressed ", 40));

        await h.Connection.SendTextAsync(text);

        RawFrame frame = await h.ExpectFrameAsync();
        Assert.True(frame.Masked);
        Assert.Equal(Rsv1, frame.Rsv);
        Assert.True(frame.Payload.Length < text.Length / 4);
        Assert.Equal(text, Encoding.UTF8.GetString(ReferenceDeflate.Decompress(frame.Payload)));
    }

    [Fact]
    public async Task A_large_message_leaves_in_several_frames_with_RSV1_on_the_first_only()
    {
        await using var h = Start(Role.Server);
        byte[] data = new byte[1024 * 1024];
        new Random(3).NextBytes(data); // incompressible: the output is larger than one scratch buffer

        await h.Connection.SendBinaryAsync(data);

        var payload = new MemoryStream();
        RawFrame first = await h.ExpectFrameAsync();
        Assert.Equal((Opcode.Binary, Rsv1, false), (first.Opcode, first.Rsv, first.Fin));
        payload.Write(first.Payload);
        RawFrame frame;
        do
        {
            frame = await h.ExpectFrameAsync();
            Assert.Equal((Opcode.Continuation, (byte)0), (frame.Opcode, frame.Rsv));
            payload.Write(frame.Payload);
        }
        while (!frame.Fin);

        Assert.Equal(data, ReferenceDeflate.Decompress(payload.ToArray()));
    }

    [Fact]
    public async Task A_streamed_send_is_compressed_fragment_by_fragment()
    {
        await using var h = Start(Role.Server);

        await using (WebSocketMessageWriter writer = await h.Connection.BeginMessageAsync(MessageType.Text))
        {
            await writer.WriteAsync("first part, ");
            await writer.WriteAsync("second part, ");
            await writer.CompleteAsync("end"u8.ToArray());
        }

        await h.Connection.SendTextAsync(""); // an empty message right after a flush still decodes

        RawFrame a = await h.ExpectFrameAsync(), b = await h.ExpectFrameAsync(), c = await h.ExpectFrameAsync();
        Assert.Equal((Opcode.Text, Rsv1, false), (a.Opcode, a.Rsv, a.Fin));
        Assert.Equal((Opcode.Continuation, (byte)0, false), (b.Opcode, b.Rsv, b.Fin));
        Assert.Equal((Opcode.Continuation, (byte)0, true), (c.Opcode, c.Rsv, c.Fin));
        using var inflater = new ReferenceDeflate.Inflater();
        Assert.Equal("first part, second part, end", Encoding.UTF8.GetString(inflater.Message([.. a.Payload, .. b.Payload, .. c.Payload])));
        RawFrame empty = await h.ExpectFrameAsync();
        Assert.Equal(Rsv1, empty.Rsv);
        Assert.Empty(inflater.Message(empty.Payload));
    }

    [Fact]
    public async Task An_idle_connection_gives_back_its_zlib_state_and_keeps_only_the_history()
    {
        await using var h = Start(Role.Server, configure: o => o.Deflate!.IdleRelease = TimeSpan.Zero);
        using var inflater = new ReferenceDeflate.Inflater();
        string json = "{\"user\":\"alice\",\"text\":\"hello there, how are you doing today?\"}";
        await h.Connection.SendTextAsync(json);
        Assert.Equal(json, Encoding.UTF8.GetString(inflater.Message((await h.ExpectFrameAsync()).Payload)));
        Assert.True(h.Connection.Deflate!.Outbound.HoldsStream);

        ZlibIdleSweeper.Tick();

        Assert.False(h.Connection.Deflate.Outbound.HoldsStream);
        Assert.Equal(json.Length, h.Connection.Deflate.Outbound.HistoryBytes);
        await h.Connection.SendTextAsync(json);
        RawFrame again = await h.ExpectFrameAsync();
        Assert.Equal(json, Encoding.UTF8.GetString(inflater.Message(again.Payload)));
        Assert.True(again.Payload.Length < 12, $"the history was restored, so the repeat is a back-reference: {again.Payload.Length} bytes");
    }

    [Fact]
    public async Task Receive_side_history_survives_an_idle_release_too()
    {
        await using var h = Start(Role.Server, configure: o => o.Deflate!.IdleRelease = TimeSpan.Zero);
        h.SendRaw(Bytes.Hex("c1 87 00 00 00 00 f2 48 cd c9 c9 07 00")); // masked with key 0: "Hello"
        Assert.Equal("Hello", (await h.Connection.ReceiveAsync()).GetText());

        ZlibIdleSweeper.Tick();
        Assert.False(h.Connection.Deflate!.Inbound.HoldsStream);
        h.SendRaw(Bytes.Hex("c1 85 00 00 00 00 f2 00 11 00 00")); // back-reference into the window (§7.2.3.2)

        Assert.Equal("Hello", (await h.Connection.ReceiveAsync()).GetText());
    }

    [Fact]
    public async Task A_client_without_context_takeover_leaves_the_server_no_zlib_state_between_messages()
    {
        await using var h = Start(Role.Server, Params(clientNoContext: true));

        h.SendRaw(Frame(Opcode.Text, ReferenceDeflate.Compress("Hello"u8)));
        Assert.Equal("Hello", (await h.Connection.ReceiveAsync()).GetText());

        Assert.False(h.Connection.Deflate!.Inbound.HoldsStream);
    }

    [Fact]
    public async Task The_compressor_window_follows_the_negotiated_bits()
    {
        byte[] block = new byte[1000];
        new Random(5).NextBytes(block);
        byte[] twice = [.. block, .. block]; // the repeat is 1000 bytes back: beyond a 9-bit (512-byte) window

        async Task<byte[]> SendAsync(int bits)
        {
            await using var h = Start(Role.Server, Params(serverBits: bits));
            await h.Connection.SendBinaryAsync(twice);
            return (await h.ExpectFrameAsync()).Payload;
        }

        byte[] wide = await SendAsync(15), narrow = await SendAsync(9), eight = await SendAsync(8);
        Assert.True(wide.Length < 1100, $"15 bits finds the repeat: {wide.Length}");
        Assert.True(narrow.Length > 1900, $"9 bits cannot reach it: {narrow.Length}");
        Assert.True(eight.Length > 1900, $"8 bits cannot reach it: {eight.Length}");
        // The peer's inflater with an 8-bit window accepts what was compressed for 8 bits.
        using var inflater8 = new ZlibInflater(8);
        byte[] output = new byte[4096];
        int written = inflater8.Decompress([.. eight, 0x00, 0x00, 0xff, 0xff], output, out _, out int code, out string? error);
        Assert.Null(error);
        Assert.Equal(twice, output[..written]);
    }

    [Fact]
    public async Task The_inflater_window_follows_the_negotiated_bits()
    {
        byte[] block = new byte[1000];
        new Random(5).NextBytes(block);
        using var compressor = new ReferenceDeflate.Deflater();
        byte[] first = compressor.Message(block);
        byte[] second = compressor.Message(block); // refers 1000 bytes back into the first message
        Assert.True(second.Length < 50);

        // With 15 bits the history reaches back far enough.
        await using (var wide = Start(Role.Server, Params(clientBits: 15)))
        {
            wide.SendRaw(Frame(Opcode.Binary, first), Frame(Opcode.Binary, second));
            Assert.Equal(block, (await wide.Connection.ReceiveAsync()).ToArray());
            Assert.Equal(block, (await wide.Connection.ReceiveAsync()).ToArray());
        }

        // Held to 9 bits, the inflater keeps only 512 bytes of history: the reference is out of its window.
        await using var h = Start(Role.Server, Params(clientBits: 9));
        _ = h.RunEchoAsync();
        h.SendRaw(Frame(Opcode.Binary, first), Frame(Opcode.Binary, second));

        Assert.Equal(block, ReferenceDeflate.Decompress((await h.ExpectFrameAsync()).Payload));
        RawFrame close = await h.ExpectCloseThenEndAsync(CloseCode.InvalidPayloadData);
        Assert.Contains("distance", close.CloseReason, StringComparison.Ordinal);
    }
}
