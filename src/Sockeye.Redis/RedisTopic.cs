using StackExchange.Redis;
using StreamPosition = Sockeye.Topics.StreamPosition;
using Sockeye.Topics;

namespace Sockeye.Redis;

/// <summary>One topic this node has subscribers for: where its delivery stands, and what waits for a sync.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A SemaphoreSlim whose wait handle is never used holds nothing to dispose.")]
internal sealed class RedisTopic(string name, RedisKeys keys)
{
    public readonly Lock Lock = new();

    /// <summary>Serializes this topic's subscribe and unsubscribe against Redis.</summary>
    public readonly SemaphoreSlim Gate = new(1, 1);

    public string Name { get; } = name;

    public RedisKeys Keys { get; } = keys;

    public int Interest;
    public bool Removed;
    public ChannelMessageQueue? Queue;

    /// <summary>The Redis stream position delivered to the sink so far; null before the first sync.</summary>
    public string? Epoch;
    public byte[]? EpochUtf8;
    public long Last;

    /// <summary>
    /// Redis was unreachable when this node published to the topic: the sink has been told to continue in a local
    /// epoch (positions that only this node knows) until the next sync tells it where the Redis stream is.
    /// </summary>
    public bool Local;
    public string? LocalEpoch;
    public long LocalLast;

    /// <summary>A sync (read of the position, fill of a missed range) is running; messages wait in <see cref="Pending"/>.</summary>
    public bool Syncing;
    public readonly List<Pending> Pending = [];
    public long Arrivals;
    /// <summary>Another round of the sync is needed (messages were dropped from Pending, or a probe came back).</summary>
    public bool Resync;

    /// <summary>Set after a reconnect until this node hears its own probe on the channel: the subscription is live again.</summary>
    public bool AwaitingProbe;

    /// <summary>Someone has presence on this topic: sweep it for dead nodes.</summary>
    public bool HasPresence;

    /// <summary>The position the sink's subscribers are at.</summary>
    public StreamPosition Current => Local ? new StreamPosition(LocalEpoch!, LocalLast) : new StreamPosition(Epoch ?? "", Last);
}

/// <summary>A message received while a sync runs, with the order it arrived in.</summary>
internal readonly record struct Pending(TopicMessage Message, long Arrival);
