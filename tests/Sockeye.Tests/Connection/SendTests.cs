using System.Text;
using Sockeye.Protocol;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Connection;

public class SendTests
{
    private static readonly TimeSpan Timeout = EngineHarness.Timeout;

    [Fact]
    public async Task Server_SendTextAsync_writes_an_unmasked_text_frame()
    {
        await using var h = EngineHarness.Start(Role.Server);

        await h.Connection.SendTextAsync("Hello").AsTask().WaitAsync(Timeout);

        Assert.Equal(Bytes.Hex("81 05 48 65 6c 6c 6f"), (await h.ExpectFrameAsync()).Wire);
    }

    [Fact]
    public async Task Server_SendTextAsync_of_UTF8_bytes_writes_them_unchanged()
    {
        await using var h = EngineHarness.Start(Role.Server);

        await h.Connection.SendTextAsync(Encoding.UTF8.GetBytes("€")).AsTask().WaitAsync(Timeout);

        Assert.Equal(Bytes.Hex("81 03 e2 82 ac"), (await h.ExpectFrameAsync()).Wire);
    }

    [Theory]
    [InlineData(0, "82 00")]
    [InlineData(125, "82 7d")]
    [InlineData(126, "82 7e 00 7e")]
    [InlineData(65535, "82 7e ff ff")]
    [InlineData(65536, "82 7f 00 00 00 00 00 01 00 00")]
    [InlineData(200_000, "82 7f 00 00 00 00 00 03 0d 40")]
    public async Task Server_SendBinaryAsync_uses_the_minimal_length_encoding(int length, string header)
    {
        await using var h = EngineHarness.Start(Role.Server);
        byte[] data = Bytes.Pattern(length);

        await h.Connection.SendBinaryAsync(data).AsTask().WaitAsync(Timeout);

        Assert.Equal(Bytes.Concat(Bytes.Hex(header), data), (await h.ExpectFrameAsync()).Wire);
    }

    [Fact]
    public async Task Server_SendTextAsync_of_a_large_string_is_one_frame()
    {
        await using var h = EngineHarness.Start(Role.Server);
        string text = string.Concat(Enumerable.Repeat("κόσμε ", 20_000)); // > 64 KiB of UTF-8

        await h.Connection.SendTextAsync(text).AsTask().WaitAsync(Timeout);

        RawFrame frame = await h.ExpectFrameAsync();
        Assert.True(frame.Fin);
        Assert.Equal(Opcode.Text, frame.Opcode);
        Assert.Equal(text, frame.Text);
    }

    [Fact]
    public async Task SendAsync_sends_a_multi_segment_payload_as_one_frame()
    {
        await using var h = EngineHarness.Start(Role.Server);
        byte[] data = Bytes.Pattern(300);

        await h.Connection.SendAsync(MessageType.Binary, Sequences.Split(data, 1, 100, 299)).AsTask().WaitAsync(Timeout);

        Assert.Equal(Bytes.Concat(Bytes.Hex("82 7e 01 2c"), data), (await h.ExpectFrameAsync()).Wire);
    }

    [Fact]
    public async Task SendTextAsync_refuses_invalid_UTF8()
    {
        await using var h = EngineHarness.Start(Role.Server);

        await Assert.ThrowsAsync<ArgumentException>(() => h.Connection.SendTextAsync(Bytes.Hex("ed a0 80")).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => h.Connection.SendAsync(MessageType.Close, default).AsTask());
    }

    [Fact]
    public async Task Concurrent_sends_from_many_tasks_produce_whole_frames_without_interleaving()
    {
        await using var h = EngineHarness.Start(Role.Server);
        const int count = 200;
        var expected = new HashSet<string>();
        var sends = new List<Task>();
        using var start = new ManualResetEventSlim();
        for (int i = 0; i < count; i++)
        {
            // Sizes vary across the 7-bit, 16-bit and 64-bit encodings so a torn frame would be visible.
            string text = $"message {i}:" + new string((char)('a' + (i % 26)), i % 3 == 0 ? 70_000 : i % 3 == 1 ? 300 : 10);
            expected.Add(text);
            sends.Add(Task.Run(async () =>
            {
                start.Wait();
                await h.Connection.SendTextAsync(text);
            }));
        }

        start.Set();
        await Task.WhenAll(sends).WaitAsync(Timeout);

        var received = new HashSet<string>();
        for (int i = 0; i < count; i++)
        {
            RawFrame frame = await h.ExpectFrameAsync();
            Assert.True(frame.Fin);
            Assert.Equal(Opcode.Text, frame.Opcode);
            Assert.False(frame.Masked);
            Assert.True(received.Add(frame.Text));
        }

        Assert.Equal(expected, received);
    }

    [Fact]
    public async Task BeginMessageAsync_sends_fragments_with_a_ping_answered_between_them()
    {
        await using var h = EngineHarness.Start(Role.Server);

        WebSocketMessageWriter writer = await h.Connection.BeginMessageAsync(MessageType.Text).AsTask().WaitAsync(Timeout);
        await writer.WriteAsync("Hel");
        Assert.Equal(Bytes.Hex("01 03 48 65 6c"), (await h.ExpectFrameAsync()).Wire);

        h.Send(Opcode.Ping, "p"u8);
        Assert.Equal(Bytes.Hex("8a 01 70"), (await h.ExpectFrameAsync()).Wire);

        await writer.CompleteAsync("lo"u8.ToArray());
        Assert.Equal(Bytes.Hex("80 02 6c 6f"), (await h.ExpectFrameAsync()).Wire);
    }

    [Fact]
    public async Task Other_messages_wait_until_the_fragmented_message_completes()
    {
        await using var h = EngineHarness.Start(Role.Server);

        WebSocketMessageWriter writer = await h.Connection.BeginMessageAsync(MessageType.Binary).AsTask().WaitAsync(Timeout);
        await writer.WriteAsync(new byte[] { 1 });
        Task other = h.Connection.SendTextAsync("other").AsTask();
        await writer.WriteAsync(new byte[] { 2 });
        await writer.CompleteAsync(new byte[] { 3 });
        await other.WaitAsync(Timeout);

        Assert.Equal(Bytes.Hex("02 01 01"), (await h.ExpectFrameAsync()).Wire);
        Assert.Equal(Bytes.Hex("00 01 02"), (await h.ExpectFrameAsync()).Wire);
        Assert.Equal(Bytes.Hex("80 01 03"), (await h.ExpectFrameAsync()).Wire);
        Assert.Equal(Bytes.Hex("81 05 6f 74 68 65 72"), (await h.ExpectFrameAsync()).Wire);
    }

    [Fact]
    public async Task Disposing_an_unfinished_writer_ends_the_message_with_an_empty_final_fragment()
    {
        await using var h = EngineHarness.Start(Role.Server);

        await using (WebSocketMessageWriter writer = await h.Connection.BeginMessageAsync(MessageType.Text))
        {
            await writer.WriteAsync("abc");
        }

        await h.Connection.SendTextAsync("next").AsTask().WaitAsync(Timeout);
        Assert.Equal(Bytes.Hex("01 03 61 62 63"), (await h.ExpectFrameAsync()).Wire);
        Assert.Equal(Bytes.Hex("80 00"), (await h.ExpectFrameAsync()).Wire);
        Assert.Equal(Bytes.Hex("81 04 6e 65 78 74"), (await h.ExpectFrameAsync()).Wire);
    }

    [Fact]
    public async Task Writer_refuses_fragments_that_are_not_UTF8_text()
    {
        await using var h = EngineHarness.Start(Role.Server);
        await using WebSocketMessageWriter writer = await h.Connection.BeginMessageAsync(MessageType.Text);

        await writer.WriteAsync(Bytes.Hex("e2 82")); // an open sequence is fine mid-message
        await Assert.ThrowsAsync<ArgumentException>(() => writer.WriteAsync(Bytes.Hex("41")).AsTask());
    }

    [Fact]
    public async Task Client_masks_every_frame_with_a_fresh_key()
    {
        await using var h = EngineHarness.Start(Role.Client);
        const int count = 32;

        for (int i = 0; i < count; i++)
        {
            if (i % 2 == 0)
            {
                await h.Connection.SendTextAsync($"text {i}").AsTask().WaitAsync(Timeout);
            }
            else
            {
                await h.Connection.SendBinaryAsync(Bytes.Pattern(i * 100)).AsTask().WaitAsync(Timeout);
            }
        }

        var keys = new HashSet<uint>();
        for (int i = 0; i < count; i++)
        {
            RawFrame frame = await h.ExpectFrameAsync();
            Assert.True(frame.Masked);
            keys.Add(BitConverter.ToUInt32(frame.MaskingKey));
            if (i % 2 == 0)
            {
                Assert.Equal($"text {i}", frame.Text);
            }
            else
            {
                Assert.Equal(Bytes.Pattern(i * 100), frame.Payload);
            }
        }

        Assert.Equal(count, keys.Count); // 32 random 32-bit keys: a repeat means they are not fresh
    }

    [Fact]
    public async Task Client_masks_fragments_pongs_and_close()
    {
        await using var h = EngineHarness.Start(Role.Client);

        await using (WebSocketMessageWriter writer = await h.Connection.BeginMessageAsync(MessageType.Binary))
        {
            await writer.WriteAsync(new byte[] { 1, 2 });
            await writer.CompleteAsync(new byte[] { 3 });
        }

        h.Send(Opcode.Ping, "p"u8);
        RawFrame first = await h.ExpectFrameAsync();
        RawFrame second = await h.ExpectFrameAsync();
        RawFrame pong = await h.ExpectFrameAsync();
        Task closing = h.Connection.CloseAsync(1000);
        RawFrame close = await h.ExpectFrameAsync();
        h.SendClose(1000);
        await closing.WaitAsync(Timeout);

        Assert.All([first, second, pong, close], f => Assert.True(f.Masked));
        Assert.Equal(new byte[] { 1, 2 }, first.Payload);
        Assert.Equal(new byte[] { 3 }, second.Payload);
        Assert.Equal("p", pong.Text);
        Assert.Equal(1000, close.CloseCode);
    }
}
