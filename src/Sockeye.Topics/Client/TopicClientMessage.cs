using System.Text;

namespace Sockeye.Topics;

/// <summary>
/// A message received by a <see cref="TopicClient"/> subscription. The payload points into the client's buffers:
/// a handler may use it only until it returns, an enumeration of <see cref="TopicSubscription.ReadAllAsync"/> until
/// it asks for the next message. Copy it (<see cref="ToArray"/>, <see cref="GetText"/>) to keep it longer.
/// </summary>
public readonly struct TopicClientMessage
{
    internal TopicClientMessage(string topic, StreamPosition position, MessageType type, ReadOnlyMemory<byte> payload)
    {
        Topic = topic;
        Position = position;
        Type = type;
        Payload = payload;
    }

    /// <summary>The topic it was published to.</summary>
    public string Topic { get; }

    /// <summary>Its position in the topic: pass it as <c>since</c> to resume after it.</summary>
    public StreamPosition Position { get; }

    /// <summary>Text (valid UTF-8) or binary.</summary>
    public MessageType Type { get; }

    /// <summary>The published bytes.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>The payload decoded as UTF-8.</summary>
    public string GetText() => Encoding.UTF8.GetString(Payload.Span);

    /// <summary>A copy of the payload.</summary>
    public byte[] ToArray() => Payload.ToArray();
}

/// <summary>
/// Receives a subscription's messages on the client's receive loop, in offset order. It must not block: the next
/// message (of any topic) is read only after it returns. Use <see cref="TopicSubscription.ReadAllAsync"/> to
/// consume asynchronously instead.
/// </summary>
public delegate void TopicMessageHandler(TopicClientMessage message);

/// <summary>A member joined or left a topic with presence on.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Member">Who joined or left.</param>
/// <param name="Joined">True for a join, false for a leave.</param>
public readonly record struct PresenceChange(string Topic, PresenceMember Member, bool Joined);
