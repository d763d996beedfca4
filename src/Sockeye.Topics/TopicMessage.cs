using System.Buffers;
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

    private byte[] _payload = [];
    private int _length;
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

    /// <summary>The published bytes.</summary>
    public ReadOnlyMemory<byte> Payload => _payload.AsMemory(0, _length);

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
    /// Copies <paramref name="payload"/> into a pooled buffer and returns a message holding one reference (the caller's).
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
        message._payload = payload.Length == 0 ? [] : ArrayPool<byte>.Shared.Rent(payload.Length);
        payload.CopyTo(message._payload);
        message._length = payload.Length;
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
        if (_payload.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_payload);
        }

        _payload = [];
        _length = 0;
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
        ref PreparedMessage? slot = ref format == TopicFormat.Raw ? ref _raw : ref _v1;
        PreparedMessage? frame = Volatile.Read(ref slot);
        if (frame is not null)
        {
            return frame;
        }

        PreparedMessage built = format == TopicFormat.Raw
            ? PreparedMessage.Create(Type, Payload.Span)
            : V1Writer.Message(this);
        PreparedMessage? raced = Interlocked.CompareExchange(ref slot, built, null);
        if (raced is null)
        {
            return built;
        }

        built.Dispose();
        return raced;
    }
}
