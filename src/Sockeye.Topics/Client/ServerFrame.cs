using System.Text;
using System.Text.Json;

namespace Sockeye.Topics;

/// <summary>The server operations of docs/protocol.md §5.</summary>
internal enum ServerOp
{
    None,
    Hello,
    Subscribed,
    Message,
    Ack,
    Unsubscribed,
    Dropped,
    Presence,
    Join,
    Leave,
    Error,
    Unknown,
}

/// <summary>
/// One parsed server frame. Strings the hot path needs (topic, epoch, text) are slices of the received bytes, or of
/// a scratch arena when they had JSON escapes, so a <c>msg</c> is parsed without allocating.
/// </summary>
internal struct ServerFrame
{
    public ServerOp Op;
    public long? Id;
    public ReadOnlyMemory<byte> Topic;
    public ReadOnlyMemory<byte> Epoch;
    public long Offset;
    public bool? Recovered;
    public bool HasPayload;
    public MessageType PayloadType;
    public ReadOnlyMemory<byte> Payload;
    public long From;
    public long To;
    public string? Code;
    public string? Message;
    public string? Reason;
    public string? Connection;
    public List<PresenceMember>? Members;
    public PresenceMember? Member;

    /// <summary>
    /// Parses a text frame (JSON) or a binary frame (§2.1). <paramref name="arena"/> must hold at least the frame's
    /// length (unescaping never makes a string longer). Returns null, or why the frame is malformed.
    /// </summary>
    public static string? Parse(ReadOnlyMemory<byte> frame, MessageType type, byte[] arena, ref ServerFrame f)
    {
        ReadOnlyMemory<byte> json = frame;
        if (type == MessageType.Binary)
        {
            if (V1BinaryFrame.Split(frame, out json, out f.Payload) is { } malformed)
            {
                return malformed;
            }

            f.PayloadType = MessageType.Binary;
            f.HasPayload = true;
        }

        try
        {
            int used = 0;
            return ParseJson(json, type == MessageType.Binary, arena, ref used, ref f);
        }
        catch (JsonException ex)
        {
            return "malformed JSON: " + ex.Message;
        }
        catch (InvalidOperationException ex)
        {
            return "malformed JSON: " + ex.Message; // a value of the wrong kind (e.g. a string where a number belongs)
        }
    }

    private static string? ParseJson(ReadOnlyMemory<byte> json, bool binary, byte[] arena, ref int used, ref ServerFrame f)
    {
        var reader = new Utf8JsonReader(json.Span, new JsonReaderOptions { MaxDepth = 64 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return "a server message must be a JSON object";
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("op"u8))
            {
                reader.Read();
                f.Op = reader.ValueTextEquals("msg"u8) ? ServerOp.Message
                    : reader.ValueTextEquals("ack"u8) ? ServerOp.Ack
                    : reader.ValueTextEquals("subscribed"u8) ? ServerOp.Subscribed
                    : reader.ValueTextEquals("unsubscribed"u8) ? ServerOp.Unsubscribed
                    : reader.ValueTextEquals("hello"u8) ? ServerOp.Hello
                    : reader.ValueTextEquals("presence"u8) ? ServerOp.Presence
                    : reader.ValueTextEquals("join"u8) ? ServerOp.Join
                    : reader.ValueTextEquals("leave"u8) ? ServerOp.Leave
                    : reader.ValueTextEquals("dropped"u8) ? ServerOp.Dropped
                    : reader.ValueTextEquals("error"u8) ? ServerOp.Error
                    : ServerOp.Unknown;
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                f.Id = reader.TokenType == JsonTokenType.Number ? reader.GetInt64() : null;
            }
            else if (reader.ValueTextEquals("topic"u8))
            {
                reader.Read();
                f.Topic = Utf8(ref reader, json, arena, ref used);
            }
            else if (reader.ValueTextEquals("epoch"u8))
            {
                reader.Read();
                f.Epoch = Utf8(ref reader, json, arena, ref used);
            }
            else if (reader.ValueTextEquals("offset"u8))
            {
                reader.Read();
                f.Offset = reader.GetInt64();
            }
            else if (reader.ValueTextEquals("text"u8))
            {
                reader.Read();
                if (binary)
                {
                    return "a binary frame with 'text' in its JSON";
                }

                f.Payload = Utf8(ref reader, json, arena, ref used);
                f.PayloadType = MessageType.Text;
                f.HasPayload = true;
            }
            else if (reader.ValueTextEquals("recovered"u8))
            {
                reader.Read();
                f.Recovered = reader.GetBoolean();
            }
            else if (reader.ValueTextEquals("from"u8))
            {
                reader.Read();
                f.From = reader.GetInt64();
            }
            else if (reader.ValueTextEquals("to"u8))
            {
                reader.Read();
                f.To = reader.GetInt64();
            }
            else if (reader.ValueTextEquals("code"u8))
            {
                reader.Read();
                f.Code = reader.GetString();
            }
            else if (reader.ValueTextEquals("message"u8))
            {
                reader.Read();
                f.Message = reader.GetString();
            }
            else if (reader.ValueTextEquals("reason"u8))
            {
                reader.Read();
                f.Reason = reader.GetString();
            }
            else if (reader.ValueTextEquals("connection"u8))
            {
                reader.Read();
                f.Connection = reader.GetString();
            }
            else if (reader.ValueTextEquals("members"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    return "'members' must be an array";
                }

                f.Members = [];
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    f.Members.Add(ReadMember(ref reader, json));
                }
            }
            else if (reader.ValueTextEquals("member"u8))
            {
                reader.Read();
                f.Member = ReadMember(ref reader, json);
            }
            else
            {
                // §1: a client ignores fields it does not know.
                reader.Read();
                reader.Skip();
            }
        }

        return f.Op == ServerOp.None ? "'op' is missing" : null;
    }

    // A string value as UTF-8: a slice of the frame, or (when it had escapes) unescaped into the arena.
    private static ReadOnlyMemory<byte> Utf8(ref Utf8JsonReader reader, ReadOnlyMemory<byte> json, byte[] arena, ref int used)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new InvalidOperationException($"expected a string, got {reader.TokenType}");
        }

        if (!reader.ValueIsEscaped)
        {
            return json.Slice((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
        }

        int written = reader.CopyString(arena.AsSpan(used));
        ReadOnlyMemory<byte> value = arena.AsMemory(used, written);
        used += written;
        return value;
    }

    // {connection, info}: info is kept as raw JSON text, as the application gave it.
    private static PresenceMember ReadMember(ref Utf8JsonReader reader, ReadOnlyMemory<byte> json)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new InvalidOperationException("a presence member must be an object");
        }

        string connection = "";
        string? info = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("connection"u8))
            {
                reader.Read();
                connection = reader.GetString() ?? "";
            }
            else if (reader.ValueTextEquals("info"u8))
            {
                reader.Read();
                int start = (int)reader.TokenStartIndex;
                bool isNull = reader.TokenType == JsonTokenType.Null;
                reader.Skip();
                info = isNull ? null : Encoding.UTF8.GetString(json.Span[start..(int)reader.BytesConsumed]);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new PresenceMember(connection, info);
    }
}
