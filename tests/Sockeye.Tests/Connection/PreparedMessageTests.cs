using System.Text;
using Sockeye.Protocol;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Connection;

public class PreparedMessageTests
{
    private static readonly TimeSpan Timeout = EngineHarness.Timeout;

    [Theory]
    [InlineData(0, "82 00")]
    [InlineData(125, "82 7d")]
    [InlineData(126, "82 7e 00 7e")]
    [InlineData(70_000, "82 7f 00 00 00 00 00 01 11 70")]
    public void Create_frames_the_payload_as_one_final_unmasked_frame(int length, string header)
    {
        byte[] payload = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
        using PreparedMessage message = PreparedMessage.Create(MessageType.Binary, payload);

        Assert.Equal([.. Bytes.Hex(header), .. payload], message.Frame.ToArray());
        Assert.Equal(payload, message.Payload.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(70_000)]
    public void Create_with_a_writer_frames_the_same_bytes_as_Create_with_a_span(int length)
    {
        byte[] payload = Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();
        using PreparedMessage copied = PreparedMessage.Create(MessageType.Binary, payload);

        // Written in two parts, as the topics layer writes its envelope header and the payload.
        using PreparedMessage written = PreparedMessage.Create(MessageType.Binary, length, payload, static (span, source) =>
        {
            source.AsSpan(0, source.Length / 2).CopyTo(span);
            source.AsSpan(source.Length / 2).CopyTo(span[(source.Length / 2)..]);
        });

        Assert.Equal(copied.Frame.ToArray(), written.Frame.ToArray());
        Assert.Equal(MessageType.Binary, written.Type);
        Assert.Equal(payload, written.Payload.ToArray());
    }

    [Fact]
    public void Create_with_a_writer_refuses_text_that_is_not_UTF8()
    {
        // §5.6: a text frame's payload is UTF-8; a lone continuation byte is not.
        Assert.Throws<ArgumentException>(() => PreparedMessage.Create(MessageType.Text, 2, 0, static (span, _) =>
        {
            span[0] = (byte)'a';
            span[1] = 0x80;
        }));
        using PreparedMessage valid = PreparedMessage.Create(MessageType.Text, 3, 0, static (span, _) => "€"u8.CopyTo(span));
        Assert.Equal("€", Encoding.UTF8.GetString(valid.Payload.Span));
    }

    [Fact]
    public void Create_with_a_writer_lets_the_writers_exception_through()
    {
        var thrown = Assert.Throws<InvalidOperationException>(() =>
            PreparedMessage.Create(MessageType.Binary, 4, 0, static (_, _) => throw new InvalidOperationException("writer failed")));
        Assert.Equal("writer failed", thrown.Message);
    }

    [Fact]
    public void Only_data_messages_can_be_prepared()
    {
        Assert.Throws<ArgumentException>(() => PreparedMessage.Create(MessageType.Close, ReadOnlySpan<byte>.Empty));
        Assert.Throws<ArgumentException>(() => PreparedMessage.Create(MessageType.Close, 0, 0, static (_, _) => { }));
        Assert.Throws<ArgumentOutOfRangeException>(() => PreparedMessage.Create(MessageType.Binary, -1, 0, static (_, _) => { }));
    }

    [Fact]
    public async Task A_prepared_message_written_in_place_arrives_as_sent()
    {
        await using var h = EngineHarness.Start(Role.Server);
        using PreparedMessage message = PreparedMessage.Create(MessageType.Text, 5, "Hello", static (span, text) => Encoding.UTF8.GetBytes(text, span));

        await h.Connection.SendAsync(message).AsTask().WaitAsync(Timeout);

        Assert.Equal(Bytes.Hex("81 05 48 65 6c 6c 6f"), (await h.ExpectFrameAsync()).Wire);
    }
}
