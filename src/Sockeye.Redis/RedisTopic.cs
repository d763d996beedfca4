using Sockeye.Topics.Backplanes;
using StackExchange.Redis;

namespace Sockeye.Redis;

/// <summary>One topic this node has subscribers for: its ordered delivery, and its Redis subscription.</summary>
internal sealed class RedisTopic(RedisKeys keys, OrderedDelivery delivery) : BackplaneTopic(delivery)
{
    public Lock Lock => Delivery.Lock;

    public RedisKeys Keys { get; } = keys;

    public bool Removed => Delivery.IsClosed;
    public ChannelMessageQueue? Queue;

    /// <summary>Set after a reconnect until this node hears its own probe on the channel: the subscription is live again.</summary>
    public bool AwaitingProbe;

    /// <summary>Someone has presence on this topic: sweep it for dead nodes.</summary>
    public bool HasPresence;
}
