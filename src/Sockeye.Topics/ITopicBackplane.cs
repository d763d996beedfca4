namespace Sockeye.Topics;

/// <summary>
/// Where a topic's stream lives: it assigns positions, keeps history and presence, and delivers every message of the
/// topics a node is interested in to that node's <see cref="ITopicSink"/>, the publishing node included. The default
/// is <see cref="InMemoryBackplane"/> (one process); a distributed backplane (Redis, NATS) lets several nodes share
/// topics.
/// </summary>
/// <remarks>
/// Contract: per topic, <see cref="ITopicSink.OnMessage"/> is called one message at a time, in offset order, with no
/// gap within an epoch; a backplane that loses continuity (a restart without persistent history) starts a new epoch,
/// and a node that cannot deliver a range it missed calls <see cref="ITopicSink.OnDiscontinuity"/> before going on.
/// </remarks>
public interface ITopicBackplane : IAsyncDisposable
{
    /// <summary>Connects the node's sink; called once, before anything else.</summary>
    void Attach(ITopicSink sink);

    /// <summary>This node has subscribers for <paramref name="topic"/>: deliver its messages from now on.</summary>
    ValueTask SubscribeAsync(string topic, CancellationToken cancellationToken);

    /// <summary>This node's last subscriber of <paramref name="topic"/> left.</summary>
    ValueTask UnsubscribeAsync(string topic, CancellationToken cancellationToken);

    /// <summary>
    /// Appends a message to the topic and returns its position. The payload is copied before this returns (or before
    /// the returned task completes, for a backplane that must send it), so the caller may reuse its buffer.
    /// </summary>
    ValueTask<StreamPosition> PublishAsync(string topic, TopicOptions options, MessageType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);

    /// <summary>
    /// True when <see cref="PublishAsync"/> calls for one topic, made one after another by one caller without
    /// awaiting the previous one, are applied in call order: those that succeed in one epoch get offsets that increase
    /// in call order, whatever order their tasks complete in. The caller keeps each call's payload valid until its
    /// task completes; a call that fails (refused) does not stop or reorder the calls after it. The hub then keeps up
    /// to <see cref="TopicHubOptions.MaxPublishesInFlight"/> of a connection's publishes in flight; when false (the
    /// default, the safe answer for a backplane that assigns offsets after an await) it awaits each publish first.
    /// </summary>
    bool PreservesPublishOrder => false;

    /// <summary>
    /// The topic's current position and, when <paramref name="since"/> is given, whether it can be resumed from
    /// there; if so every kept message after it is added to <paramref name="into"/> in offset order, each retained
    /// for the caller (who releases them).
    /// </summary>
    ValueTask<HistoryRead> ReadAsync(string topic, StreamPosition? since, TopicOptions options, ICollection<TopicMessage> into, CancellationToken cancellationToken);

    /// <summary>Adds a member to the topic's presence and announces it with <see cref="ITopicSink.OnPresence"/>.</summary>
    ValueTask JoinAsync(string topic, PresenceMember member, CancellationToken cancellationToken);

    /// <summary>Removes a member from the topic's presence and announces it.</summary>
    ValueTask LeaveAsync(string topic, PresenceMember member, CancellationToken cancellationToken);

    /// <summary>The topic's current members.</summary>
    ValueTask<IReadOnlyList<PresenceMember>> GetPresenceAsync(string topic, CancellationToken cancellationToken);
}

/// <summary>What a node receives from its backplane.</summary>
public interface ITopicSink
{
    /// <summary>
    /// A message of a topic this node subscribed to. The sink retains the message if it keeps it past the call.
    /// </summary>
    void OnMessage(TopicMessage message);

    /// <summary>A member joined (<paramref name="joined"/>) or left a topic this node subscribed to.</summary>
    void OnPresence(string topic, PresenceMember member, bool joined);

    /// <summary>
    /// The topic's stream did not continue from the last message delivered: messages may be missing (the backplane
    /// lost them, or the stream restarted in a new epoch). Delivery continues after <paramref name="current"/>; the
    /// node's subscribers must be told (<c>reset</c>, docs/protocol.md §5), never left with a silent gap. Called in
    /// order with <see cref="OnMessage"/>.
    /// </summary>
    void OnDiscontinuity(string topic, StreamPosition current);
}

/// <summary>The answer to <see cref="ITopicBackplane.ReadAsync"/>.</summary>
/// <param name="Current">The topic's last position (offset 0 when nothing was published in this epoch).</param>
/// <param name="Recovered">True when every message after the requested position was returned.</param>
public readonly record struct HistoryRead(StreamPosition Current, bool Recovered);

/// <summary>A topic operation was refused; <see cref="Code"/> is the <c>sockeye.v1</c> error code (docs/protocol.md §5).</summary>
public sealed class TopicException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TopicException(string code, string message) : base(message) => Code = code;

    /// <summary>Creates the exception with the <c>unavailable</c> code.</summary>
    public TopicException() : this("unavailable", "The topic is unavailable.")
    {
    }

    /// <summary>Creates the exception with the <c>unavailable</c> code.</summary>
    public TopicException(string message) : this("unavailable", message)
    {
    }

    /// <summary>Creates the exception with the <c>unavailable</c> code.</summary>
    public TopicException(string message, Exception innerException) : base(message, innerException) => Code = "unavailable";

    /// <summary>The error code: <c>forbidden</c>, <c>unavailable</c>, <c>too_large</c>, <c>bad_request</c>.</summary>
    public string Code { get; } = "unavailable";
}
