namespace Sockeye.Topics;

/// <summary>Settings of one <see cref="TopicClient"/> subscription.</summary>
public sealed class TopicSubscribeOptions
{
    /// <summary>
    /// Resume after this position (e.g. the last one an earlier run stored): the messages after it are delivered
    /// first if the server's history still has them, otherwise <see cref="OnReset"/> is called.
    /// </summary>
    public StreamPosition? Since { get; set; }

    /// <summary>This member's information shown to others on a topic with presence on: a JSON value, e.g. <c>{"name":"ada"}</c>.</summary>
    public string? Presence { get; set; }

    /// <summary>
    /// The server could not resume this subscription (its epoch changed, e.g. it restarted, or the gap is older than
    /// its history): messages were missed, so reload the state they build. Gets the topic's current position; the
    /// messages after it follow. Called in order with the messages.
    /// </summary>
    public Action<StreamPosition>? OnReset { get; set; }

    /// <summary>The server dropped the messages <c>from</c>…<c>to</c> (offsets) for this slow subscriber (policy drop-oldest).</summary>
    public Action<long, long>? OnGap { get; set; }

    /// <summary>Someone joined or left the topic (presence on). Called on the client's receive loop.</summary>
    public Action<PresenceChange>? OnPresence { get; set; }

    /// <summary>
    /// Without a handler: how many received messages wait for <see cref="TopicSubscription.ReadAllAsync"/> before the
    /// client stops reading from the server (default 1024).
    /// </summary>
    public int Capacity { get; set; } = 1024;
}
