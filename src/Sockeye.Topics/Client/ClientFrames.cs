using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Sockeye.Topics;

/// <summary>
/// Builds the client's <c>sockeye.v1</c> requests (docs/protocol.md §4). One JSON writer and buffer writer per thread
/// are reused; each frame is one pooled array, so a publish allocates no frame memory of its own.
/// </summary>
internal static class ClientFrames
{
    // Relaxed escaping keeps non-ASCII text as UTF-8 (smaller; nothing here is embedded in HTML).
    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [ThreadStatic] private static RentedBufferWriter? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    /// <summary><c>pub</c> with the payload as <c>text</c> (UTF-8; throws <see cref="ArgumentException"/> if it is not valid UTF-8).</summary>
    public static OutgoingFrame PublishText(long id, string topic, ReadOnlySpan<byte> utf8) =>
        PublishText(id, topic, utf8, null);

    /// <summary><c>pub</c> with a string payload, encoded straight into the frame.</summary>
    public static OutgoingFrame PublishText(long id, string topic, string text) =>
        PublishText(id, topic, default, text);

    private static OutgoingFrame PublishText(long id, string topic, ReadOnlySpan<byte> utf8, string? text)
    {
        // A frame that fails halfway (invalid UTF-8 or UTF-16) is simply overwritten by the next Begin.
        Utf8JsonWriter writer = Begin("pub", (text?.Length ?? utf8.Length) + topic.Length + 48, 0);
        writer.WriteNumber("id"u8, id);
        writer.WriteString("topic"u8, topic);
        if (text is null)
        {
            writer.WriteString("text"u8, utf8);
        }
        else
        {
            writer.WriteString("text"u8, text);
        }

        return End(writer, MessageType.Text);
    }

    /// <summary>§2.1: <c>[4-byte big-endian JSON length][{"op":"pub",…}][payload]</c>.</summary>
    public static OutgoingFrame PublishBinary(long id, string topic, ReadOnlySpan<byte> payload)
    {
        Utf8JsonWriter writer = Begin("pub", payload.Length + topic.Length + 48, 4);
        writer.WriteNumber("id"u8, id);
        writer.WriteString("topic"u8, topic);
        writer.WriteEndObject();
        writer.Flush();
        RentedBufferWriter buffer = t_buffer!;
        BinaryPrimitives.WriteInt32BigEndian(buffer.WrittenSpan, buffer.Written - 4);
        payload.CopyTo(buffer.GetSpan(payload.Length));
        buffer.Advance(payload.Length);
        return buffer.Detach(MessageType.Binary);
    }

    /// <summary><c>sub</c>, with <c>since</c> when the subscription has a position and <c>presence</c> when it has info.</summary>
    public static OutgoingFrame Subscribe(long id, string topic, StreamPosition? since, string? presence)
    {
        Utf8JsonWriter writer = Begin("sub", topic.Length + (presence?.Length ?? 0) + 96, 0);
        writer.WriteNumber("id"u8, id);
        writer.WriteString("topic"u8, topic);
        if (since is { } position)
        {
            writer.WriteStartObject("since"u8);
            writer.WriteString("epoch"u8, position.Epoch);
            writer.WriteNumber("offset"u8, position.Offset);
            writer.WriteEndObject();
        }

        if (presence is not null)
        {
            writer.WritePropertyName("presence"u8);
            writer.WriteRawValue(presence, skipInputValidation: true); // validated once, when the subscription was made
        }

        return End(writer, MessageType.Text);
    }

    /// <summary>A request with only an id and a topic: <c>unsub</c> or <c>presence</c>.</summary>
    public static OutgoingFrame Simple(string op, long id, string topic)
    {
        Utf8JsonWriter writer = Begin(op, topic.Length + 48, 0);
        writer.WriteNumber("id"u8, id);
        writer.WriteString("topic"u8, topic);
        return End(writer, MessageType.Text);
    }

    private static Utf8JsonWriter Begin(string op, int sizeHint, int reserve)
    {
        RentedBufferWriter buffer = t_buffer ??= new RentedBufferWriter();
        buffer.Start(sizeHint, reserve);
        Utf8JsonWriter writer = t_writer ??= new Utf8JsonWriter(buffer, s_options);
        writer.Reset(buffer);
        writer.WriteStartObject();
        writer.WriteString("op"u8, op);
        return writer;
    }

    private static OutgoingFrame End(Utf8JsonWriter writer, MessageType type)
    {
        writer.WriteEndObject();
        writer.Flush();
        return t_buffer!.Detach(type);
    }
}
