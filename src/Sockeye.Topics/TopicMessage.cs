using System.Collections.Concurrent;

namespace Sockeye.Topics;

/// <summary>
/// One published message at its position, shared by history and every subscriber queue of a node. It is framed at
/// most once per format (the payload alone for plain clients, the <c>sockeye.v1</c> envelope for protocol clients)
/// and the same frame bytes go to every subscriber: a delivery copies no payload and allocates nothing.
/// </summary>
/// <remarks>
/// Reference-counted: <see cref="Create"/> returns it with one reference owned by the caller; every holder
/// (history, a queue) takes its own with <see cref="Retain"/> and gives it back with <see cref="Release"/>. At zero the
/// buffers return to their pools and the object is recycled; touching it afterwards is a bug.
/// </remarks>
public sealed class TopicMessage
{
    private static readonly ConcurrentBag<TopicMessage> s_pool = [];
    private const int MaxPooled = 4096;
    private static int s_pooled;

    private int _refs;
    private PreparedMessage? _raw;
    private PreparedMessage? _v1;

    private TopicMessage()
    {
    }

    /// <summary>The topic's name.</summary>
    public string Topic { get; private set; } = "";

    /// <summary>The message's position in its topic.</summary>
    public StreamPosition Position { get; private set; }

    /// <summary>Text (valid UTF-8) or binary.</summary>
    public MessageType Type { get; private set; }

    /// <summary>The published bytes (inside the plain frame: one copy serves both).</summary>
    public ReadOnlyMemory<byte> Payload => _raw!.Payload;

    /// <summary>When it was published (<see cref="Environment.TickCount64"/> on this node), for history by age.</summary>
    public long PublishedAtMs { get; private set; }

    /// <summary>
    /// Not a message but the place of a discontinuity (<see cref="ITopicSink.OnDiscontinuity"/>) among the messages
    /// parked for a subscription being set up; <see cref="Position"/> is the position the stream continues from.
    /// </summary>
    internal bool IsDiscontinuity { get; private set; }

    /// <summary>A marker for a discontinuity at <paramref name="position"/>, holding one reference (the caller's).</summary>
    internal static TopicMessage Discontinuity(string topic, StreamPosition position)
    {
        TopicMessage marker = Create(topic, position, MessageType.Text, []);
        marker.IsDiscontinuity = true;
        return marker;
    }

    /// <summary>
    /// Frames <paramref name="payload"/> (one copy, into a pooled buffer) and returns a message holding one reference
    /// (the caller's). Text must be valid UTF-8 (<see cref="ArgumentException"/> otherwise).
    /// </summary>
    public static TopicMessage Create(string topic, StreamPosition position, MessageType type, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (type is not (MessageType.Text or MessageType.Binary))
        {
            throw new ArgumentException("Only text and binary messages can be published.", nameof(type));
        }

        TopicMessage message;
        if (s_pool.TryTake(out TopicMessage? pooled))
        {
            Interlocked.Decrement(ref s_pooled);
            message = pooled;
        }
        else
        {
            message = new TopicMessage();
        }

        message.Topic = topic;
        message.Position = position;
        message.Type = type;
        message.PublishedAtMs = Environment.TickCount64;
        message._raw = PreparedMessage.Create(type, payload);
        message._refs = 1;
        return message;
    }

    /// <summary>Takes one more reference.</summary>
    public void Retain()
    {
        if (Interlocked.Increment(ref _refs) <= 1)
        {
            throw new InvalidOperationException("The topic message was already released.");
        }
    }

    /// <summary>Gives one reference back; the last one recycles the message.</summary>
    public void Release()
    {
        int left = Interlocked.Decrement(ref _refs);
        if (left > 0)
        {
            return;
        }

        if (left < 0)
        {
            throw new InvalidOperationException("The topic message was released more often than retained.");
        }

        Interlocked.Exchange(ref _raw, null)?.Dispose();
        Interlocked.Exchange(ref _v1, null)?.Dispose();
        Topic = "";
        IsDiscontinuity = false;
        if (Interlocked.Increment(ref s_pooled) <= MaxPooled)
        {
            s_pool.Add(this);
        }
        else
        {
            Interlocked.Decrement(ref s_pooled);
        }
    }

    /// <summary>The frame for <paramref name="format"/>, built by the first subscriber that needs it.</summary>
    internal PreparedMessage GetFrame(TopicFormat format)
    {
        if (format == TopicFormat.Raw)
        {
            return _raw!;
        }

        PreparedMessage? frame = Volatile.Read(ref _v1);
        if (frame is not null)
        {
            return frame;
        }

        PreparedMessage built = V1Writer.Message(this);
        PreparedMessage? raced = Interlocked.CompareExchange(ref _v1, built, null);
        if (raced is null)
        {
            return built;
        }

        built.Dispose();
        return raced;
    }
}
