using System.Buffers;
using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Sockeye.Topics;

/// <summary>
/// Builds the server's <c>sockeye.v1</c> frames (docs/protocol.md §5). One JSON writer and buffer per thread are
/// reused, so building a frame allocates only the pooled frame itself.
/// </summary>
internal static class V1Writer
{
    // Relaxed escaping keeps non-ASCII text as UTF-8 (smaller, and nothing here is embedded in HTML).
    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    private static Utf8JsonWriter Begin(string op)
    {
        ArrayBufferWriter<byte> buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        Utf8JsonWriter writer = t_writer ??= new Utf8JsonWriter(buffer, s_options);
        writer.Reset(buffer);
        writer.WriteStartObject();
        writer.WriteString("op"u8, op);
        return writer;
    }

    private static PreparedMessage End(Utf8JsonWriter writer)
    {
        writer.WriteEndObject();
        writer.Flush();
        return PreparedMessage.Create(MessageType.Text, t_buffer!.WrittenSpan);
    }

    /// <summary><c>msg</c>: text in the JSON, binary as §2.1's header + payload.</summary>
    public static PreparedMessage Message(TopicMessage message)
    {
        Utf8JsonWriter writer = Begin("msg");
        writer.WriteString("topic"u8, message.Topic);
        writer.WriteString("epoch"u8, message.Position.Epoch);
        writer.WriteNumber("offset"u8, message.Position.Offset);
        if (message.Type == MessageType.Text)
        {
            writer.WriteString("text"u8, message.Payload.Span);
            return End(writer);
        }

        writer.WriteEndObject();
        writer.Flush();
        return Binary(t_buffer!.WrittenSpan, message.Payload.Span);
    }

    /// <summary>§2.1: <c>[4-byte big-endian JSON length][JSON][payload]</c>, written straight into the frame.</summary>
    private static PreparedMessage Binary(ReadOnlySpan<byte> json, ReadOnlySpan<byte> payload) =>
        PreparedMessage.Create(MessageType.Binary, 4 + json.Length + payload.Length, new BinaryParts(json, payload), static (frame, parts) =>
        {
            BinaryPrimitives.WriteInt32BigEndian(frame, parts.Json.Length);
            parts.Json.CopyTo(frame[4..]);
            parts.Payload.CopyTo(frame[(4 + parts.Json.Length)..]);
        });

    private readonly ref struct BinaryParts(ReadOnlySpan<byte> json, ReadOnlySpan<byte> payload)
    {
        public ReadOnlySpan<byte> Json { get; } = json;

        public ReadOnlySpan<byte> Payload { get; } = payload;
    }

    public static PreparedMessage Hello(string connection)
    {
        Utf8JsonWriter writer = Begin("hello");
        writer.WriteNumber("version"u8, 1);
        writer.WriteString("connection"u8, connection);
        return End(writer);
    }

    public static PreparedMessage Subscribed(long id, string topic, StreamPosition current, bool? recovered)
    {
        Utf8JsonWriter writer = Begin("subscribed");
        writer.WriteNumber("id"u8, id);
        writer.WriteString("topic"u8, topic);
        writer.WriteString("epoch"u8, current.Epoch);
        writer.WriteNumber("offset"u8, current.Offset);
        if (recovered is { } value)
        {
            writer.WriteBoolean("recovered"u8, value);
        }

        return End(writer);
    }

    public static PreparedMessage Ack(long id, string topic, StreamPosition position)
    {
        Utf8JsonWriter writer = Begin("ack");
        writer.WriteNumber("id"u8, id);
        writer.WriteString("topic"u8, topic);
        writer.WriteString("epoch"u8, position.Epoch);
        writer.WriteNumber("offset"u8, position.Offset);
        return End(writer);
    }

    public static PreparedMessage Unsubscribed(string topic, long? id, string? reason)
    {
        Utf8JsonWriter writer = Begin("unsubscribed");
        writer.WriteString("topic"u8, topic);
        if (id is { } value)
        {
            writer.WriteNumber("id"u8, value);
        }

        if (reason is not null)
        {
            writer.WriteString("reason"u8, reason);
        }

        return End(writer);
    }

    public static PreparedMessage Reset(string topic, StreamPosition current)
    {
        Utf8JsonWriter writer = Begin("reset");
        writer.WriteString("topic"u8, topic);
        writer.WriteString("epoch"u8, current.Epoch);
        writer.WriteNumber("offset"u8, current.Offset);
        return End(writer);
    }

    public static PreparedMessage Dropped(string topic, long from, long to)
    {
        Utf8JsonWriter writer = Begin("dropped");
        writer.WriteString("topic"u8, topic);
        writer.WriteNumber("from"u8, from);
        writer.WriteNumber("to"u8, to);
        return End(writer);
    }

    public static PreparedMessage Presence(long id, string topic, IReadOnlyList<PresenceMember> members)
    {
        Utf8JsonWriter writer = Begin("presence");
        writer.WriteNumber("id"u8, id);
        writer.WriteString("topic"u8, topic);
        writer.WriteStartArray("members"u8);
        foreach (PresenceMember member in members)
        {
            WriteMember(writer, member);
        }

        writer.WriteEndArray();
        writer.WriteNumber("count"u8, members.Count);
        return End(writer);
    }

    public static PreparedMessage PresenceChange(string topic, PresenceMember member, bool joined)
    {
        Utf8JsonWriter writer = Begin(joined ? "join" : "leave");
        writer.WriteString("topic"u8, topic);
        writer.WritePropertyName("member"u8);
        WriteMember(writer, member);
        return End(writer);
    }

    public static PreparedMessage Error(string code, string message, long? id, string? topic)
    {
        Utf8JsonWriter writer = Begin("error");
        writer.WriteString("code"u8, code);
        writer.WriteString("message"u8, message);
        if (id is { } value)
        {
            writer.WriteNumber("id"u8, value);
        }

        if (topic is not null)
        {
            writer.WriteString("topic"u8, topic);
        }

        return End(writer);
    }

    private static void WriteMember(Utf8JsonWriter writer, PresenceMember member)
    {
        writer.WriteStartObject();
        writer.WriteString("connection"u8, member.Connection);
        writer.WritePropertyName("info"u8);
        if (member.Info is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteRawValue(member.Info);
        }

        writer.WriteEndObject();
    }
}
