using System.Text.Json;

namespace Sockeye.Topics;

/// <summary>The client operations of docs/protocol.md §4.</summary>
internal enum V1Op
{
    None,
    Subscribe,
    Unsubscribe,
    Publish,
    Presence,
    Unknown,
}

/// <summary>
/// One parsed client request. Parsing reads straight from the received bytes; the text payload is a slice of them
/// unless it had JSON escapes, in which case it is unescaped into <see cref="Scratch"/>.
/// </summary>
internal struct V1Request
{
    public const int MaxPresenceInfoBytes = 4096;

    public V1Op Op;
    public string? OpName;
    public long? Id;
    public string? Topic;
    public bool HasText;
    public ReadOnlyMemory<byte> Payload;
    public MessageType PayloadType;
    public string? SinceEpoch;
    public long? SinceOffset;
    public bool HasSince;
    public string? PresenceInfo;

    /// <summary>A reusable buffer for unescaped text (owned by the session).</summary>
    public byte[]? Scratch;

    /// <summary>Parses a text frame (JSON) or a binary frame (§2.1); returns null or the reason it is malformed.</summary>
    public static string? Parse(ReadOnlyMemory<byte> frame, MessageType type, ref V1Request request, TopicNameCache names)
    {
        ReadOnlyMemory<byte> json = frame;
        if (type == MessageType.Binary)
        {
            if (V1BinaryFrame.Split(frame, out json, out request.Payload) is { } malformed)
            {
                return malformed;
            }

            request.PayloadType = MessageType.Binary;
            request.HasText = true; // the payload is present, as binary
        }

        try
        {
            return ParseJson(json, type == MessageType.Binary, ref request, names);
        }
        catch (JsonException ex)
        {
            return $"malformed JSON: {ex.Message}";
        }
    }

    private static string? ParseJson(ReadOnlyMemory<byte> json, bool binary, ref V1Request request, TopicNameCache names)
    {
        var reader = new Utf8JsonReader(json.Span, new JsonReaderOptions { MaxDepth = 16 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return "a request must be a JSON object";
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                return "malformed JSON object";
            }

            if (reader.ValueTextEquals("op"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    return "'op' must be a string";
                }

                request.Op = reader.ValueTextEquals("pub"u8) ? V1Op.Publish
                    : reader.ValueTextEquals("sub"u8) ? V1Op.Subscribe
                    : reader.ValueTextEquals("unsub"u8) ? V1Op.Unsubscribe
                    : reader.ValueTextEquals("presence"u8) ? V1Op.Presence
                    : V1Op.Unknown;
                if (request.Op == V1Op.Unknown)
                {
                    request.OpName = reader.GetString();
                }
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long id) || id < 1 || id > (1L << 53) - 1)
                {
                    return "'id' must be an integer from 1 to 2^53-1";
                }

                request.Id = id;
            }
            else if (reader.ValueTextEquals("topic"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    return "'topic' must be a string";
                }

                request.Topic = names.Get(ref reader);
            }
            else if (reader.ValueTextEquals("text"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    return "'text' must be a string";
                }

                if (binary)
                {
                    return "a binary frame carries its payload after the JSON, not in 'text'";
                }

                request.HasText = true;
                request.PayloadType = MessageType.Text;
                if (!reader.ValueIsEscaped)
                {
                    int start = (int)reader.TokenStartIndex + 1; // past the opening quote
                    request.Payload = json.Slice(start, reader.ValueSpan.Length);
                }
                else
                {
                    int max = reader.ValueSpan.Length; // unescaping never makes it longer
                    if (request.Scratch is null || request.Scratch.Length < max)
                    {
                        if (request.Scratch is not null)
                        {
                            System.Buffers.ArrayPool<byte>.Shared.Return(request.Scratch);
                        }

                        request.Scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(max, 256));
                    }

                    int written = reader.CopyString(request.Scratch);
                    request.Payload = request.Scratch.AsMemory(0, written);
                }
            }
            else if (reader.ValueTextEquals("since"u8))
            {
                if (ParseSince(ref reader, ref request) is { } error)
                {
                    return error;
                }
            }
            else if (reader.ValueTextEquals("presence"u8))
            {
                reader.Read();
                int start = (int)reader.TokenStartIndex;
                reader.Skip();
                int end = (int)reader.BytesConsumed;
                if (end - start > MaxPresenceInfoBytes)
                {
                    return $"'presence' is over {MaxPresenceInfoBytes} bytes";
                }

                request.PresenceInfo = System.Text.Encoding.UTF8.GetString(json.Span[start..end]);
            }
            else
            {
                // §1: fields a server does not know are ignored.
                reader.Read();
                reader.Skip();
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject)
        {
            return "malformed JSON object";
        }

        return request.Op == V1Op.None ? "'op' is missing" : null;
    }

    private static string? ParseSince(ref Utf8JsonReader reader, ref V1Request request)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return "'since' must be an object {epoch, offset}";
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("epoch"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    return "'since.epoch' must be a string";
                }

                request.SinceEpoch = reader.GetString();
            }
            else if (reader.ValueTextEquals("offset"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long offset) || offset < 0)
                {
                    return "'since.offset' must be a non-negative integer";
                }

                request.SinceOffset = offset;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (request.SinceEpoch is null || request.SinceOffset is null)
        {
            return "'since' needs both 'epoch' and 'offset'";
        }

        request.HasSince = true;
        return null;
    }
}
