using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using NATS.Client.Core;

namespace Sockeye.Nats;

/// <summary>
/// The headers a message carries, and the few JetStream API bodies this backplane reads and writes by hand (so no
/// reflection-based JSON is involved: the CLI is published with native AOT).
/// </summary>
internal static class NatsWire
{
    /// <summary>The topic's epoch (random, chosen by whoever wrote the topic's first message).</summary>
    public const string Epoch = "Sockeye-Epoch";

    /// <summary>The message's offset; 0 for the marker that opens an epoch (not a message, never delivered).</summary>
    public const string Offset = "Sockeye-Offset";

    /// <summary><c>t</c> text, <c>b</c> binary.</summary>
    public const string Type = "Sockeye-Type";

    /// <summary>On a presence event: <c>j</c> joined, <c>l</c> left; the payload is the member's info.</summary>
    public const string Presence = "Sockeye-Presence";

    /// <summary>On a presence event: the member's connection id.</summary>
    public const string Member = "Sockeye-Member";

    /// <summary>Optimistic concurrency on one subject: the publish is refused unless the subject's last stored message has this sequence (0: none).</summary>
    public const string ExpectedLastSubjectSequence = "Nats-Expected-Last-Subject-Sequence";

    /// <summary>Set by the server on republished and directly read messages: the stream sequence.</summary>
    public const string Sequence = "Nats-Sequence";

    /// <summary>Set by the server on directly read messages: when it was stored (RFC 3339).</summary>
    public const string TimeStamp = "Nats-Time-Stamp";

    /// <summary>JetStream's error code for a failed <see cref="ExpectedLastSubjectSequence"/>.</summary>
    public const int WrongLastSequence = 10071;

    public static string? Header(NatsHeaders? headers, string name) =>
        headers is not null && headers.TryGetValue(name, out Microsoft.Extensions.Primitives.StringValues values) && values.Count > 0 ? values[^1] : null;

    public static bool TryParseLong(string? text, out long value) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    public static bool TryParseSeq(string? text, out ulong value) =>
        ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    /// <summary>Nats-Time-Stamp, RFC 3339 with up to nine fractional digits (.NET parses seven).</summary>
    public static DateTimeOffset? ParseTime(string? text)
    {
        if (text is null)
        {
            return null;
        }

        int dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0)
        {
            int end = dot + 1;
            while (end < text.Length && char.IsAsciiDigit(text[end]))
            {
                end++;
            }

            if (end - dot - 1 > 7)
            {
                text = string.Concat(text.AsSpan(0, dot + 8), text.AsSpan(end));
            }
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset time) ? time : null;
    }

    /// <summary><c>{"last_by_subj":"…"}</c> or <c>{"seq":N,"next_by_subj":"…"}</c>; subjects here are plain ASCII.</summary>
    public static byte[] DirectGet(string subject, ulong? nextFrom) => Encoding.ASCII.GetBytes(nextFrom is { } seq
        ? $"{{\"seq\":{seq.ToString(CultureInfo.InvariantCulture)},\"next_by_subj\":\"{subject}\"}}"
        : $"{{\"last_by_subj\":\"{subject}\"}}");

    /// <summary>A JetStream publish acknowledgement: the sequence, or the API error code and description.</summary>
    public static (ulong Seq, int ErrorCode, string? Error) ParsePubAck(ReadOnlySpan<byte> json)
    {
        ulong seq = 0;
        int errorCode = 0;
        string? error = null;
        var reader = new Utf8JsonReader(json);
        int depth = 0;
        bool inError = false;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    depth++;
                    break;
                case JsonTokenType.EndObject:
                    depth--;
                    inError = depth > 1 && inError;
                    break;
                case JsonTokenType.PropertyName when depth == 1 && reader.ValueTextEquals("seq"):
                    reader.Read();
                    seq = reader.TokenType == JsonTokenType.Number ? reader.GetUInt64() : 0;
                    break;
                case JsonTokenType.PropertyName when depth == 1 && reader.ValueTextEquals("error"):
                    inError = true;
                    error ??= "error";
                    break;
                case JsonTokenType.PropertyName when depth == 2 && inError && reader.ValueTextEquals("err_code"):
                    reader.Read();
                    errorCode = reader.TokenType == JsonTokenType.Number ? reader.GetInt32() : -1;
                    break;
                case JsonTokenType.PropertyName when depth == 2 && inError && reader.ValueTextEquals("description"):
                    reader.Read();
                    error = reader.TokenType == JsonTokenType.String ? reader.GetString() : error;
                    break;
                default:
                    break;
            }
        }

        if (error is not null && errorCode == 0)
        {
            errorCode = -1;
        }

        return (seq, errorCode, error);
    }

    public static ReadOnlySpan<byte> Span(NatsMemoryOwner<byte> owner) => owner.Memory.Span;

    public static ReadOnlySequence<byte> Empty => ReadOnlySequence<byte>.Empty;
}
