using Sockeye.Topics.Backplanes;
using StackExchange.Redis;

namespace Sockeye.Redis;

/// <summary>One topic this node has subscribers for: its ordered delivery, and its Redis subscription.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A SemaphoreSlim whose wait handle is never used holds nothing to dispose.")]
internal sealed class RedisTopic(string name, RedisKeys keys, OrderedDelivery delivery)
{
    /// <summary>Where delivery stands (Redis stream positions, or a local epoch while Redis is away) and what waits for a sync.</summary>
    public OrderedDelivery Delivery { get; } = delivery;

    public Lock Lock => Delivery.Lock;

    /// <summary>Serializes this topic's subscribe and unsubscribe against Redis.</summary>
    public readonly SemaphoreSlim Gate = new(1, 1);

    public string Name { get; } = name;

    public RedisKeys Keys { get; } = keys;

    public int Interest;
    public bool Removed => Delivery.IsClosed;
    public ChannelMessageQueue? Queue;

    /// <summary>Set after a reconnect until this node hears its own probe on the channel: the subscription is live again.</summary>
    public bool AwaitingProbe;

    /// <summary>Someone has presence on this topic: sweep it for dead nodes.</summary>
    public bool HasPresence;
}
