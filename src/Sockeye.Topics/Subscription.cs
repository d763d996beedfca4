namespace Sockeye.Topics;

/// <summary>One connection's subscription to one topic.</summary>
internal sealed class Subscription(Subscriber owner, string topic, TopicOptions options)
{
    public Subscriber Owner { get; } = owner;

    public string Topic { get; } = topic;

    public TopicOptions Options { get; } = options;

    /// <summary>False once unsubscribed: its queued messages are skipped, not sent.</summary>
    public volatile bool Active = true;

    /// <summary>
    /// While the subscription is being set up (history read), live messages are parked here instead of queued, so
    /// history and live can be joined without a gap or a duplicate. Guarded by the topic's lock.
    /// </summary>
    public List<TopicMessage>? Parked = [];

    public PresenceMember? Member { get; set; }
}
