using System.Buffers;
using System.Text;

namespace Sockeye;

/// <summary>
/// A received message, or a part of one when streaming. The payload points into the connection's buffers and is
/// valid only until the next receive call on the same connection: copy it (<see cref="ToArray"/>,
/// <see cref="GetText"/>) to keep it longer. This is what lets Sockeye deliver messages without copying them.
/// </summary>
public readonly struct WebSocketMessage
{
    internal WebSocketMessage(MessageType type, ReadOnlySequence<byte> payload, bool endOfMessage)
    {
        Type = type;
        Payload = payload;
        EndOfMessage = endOfMessage;
    }

    /// <summary>Text, Binary, or Close when the connection has closed.</summary>
    public MessageType Type { get; }

    /// <summary>The payload (already unmasked and, for text, validated as UTF-8).</summary>
    public ReadOnlySequence<byte> Payload { get; }

    /// <summary>False for a part of a streamed message that has more parts to come.</summary>
    public bool EndOfMessage { get; }

    /// <summary>True when the connection has closed.</summary>
    public bool IsClose => Type == MessageType.Close;

    /// <summary>The payload decoded as UTF-8. For streamed parts, decode the whole message instead: a part may end mid-character.</summary>
    public string GetText() => Encoding.UTF8.GetString(Payload);

    /// <summary>A copy of the payload.</summary>
    public byte[] ToArray() => Payload.ToArray();

    internal static WebSocketMessage Closed => new(MessageType.Close, default, true);
}
