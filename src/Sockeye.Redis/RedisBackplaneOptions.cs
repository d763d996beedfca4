using Microsoft.Extensions.Logging;

namespace Sockeye.Redis;

/// <summary>Settings of a <see cref="RedisBackplane"/> (docs/scale-out.md).</summary>
public sealed class RedisBackplaneOptions
{
    /// <summary>
    /// A StackExchange.Redis configuration string: <c>host:port</c>, optionally followed by
    /// <c>,password=…</c>, <c>,user=…</c>, <c>,ssl=true</c>, <c>,sslHost=…</c>, <c>,defaultDatabase=N</c>.
    /// </summary>
    public string Configuration { get; set; } = "localhost:6379";

    /// <summary>Prepended to every key and channel, so several applications can share one Redis database.</summary>
    public string KeyPrefix { get; set; } = "sockeye:";

    /// <summary>This node's id in Redis (presence ownership); null for a random one. Distinct per node.</summary>
    public string? NodeId { get; set; }

    /// <summary>How often this node refreshes its liveness and sweeps the presence of dead nodes.</summary>
    public TimeSpan PresenceHeartbeat { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A node not heard from for this long is dead: its members leave every topic's presence. Members of a killed
    /// node are gone within <see cref="PresenceTimeout"/> + <see cref="PresenceHeartbeat"/>.
    /// </summary>
    public TimeSpan PresenceTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// A topic's keys (position, history, presence) expire after this long without a publish or a read; a later
    /// publish starts a new epoch. Bounds what abandoned topics leave in Redis.
    /// </summary>
    public TimeSpan TopicExpiry { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Messages held per topic while a range missed from Redis is fetched; past it the newest are dropped and fetched
    /// from the stream too (or reported with <c>reset</c> when the history no longer has them).
    /// </summary>
    public int MaxPendingPerTopic { get; set; } = 10_000;

    /// <summary>How long one Redis command may take before it counts as failed.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Where outages, recoveries and resets are logged.</summary>
    public ILogger? Logger { get; set; }

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Configuration);
        ArgumentNullException.ThrowIfNull(KeyPrefix);
        if (PresenceHeartbeat <= TimeSpan.Zero || PresenceTimeout <= PresenceHeartbeat)
        {
            throw new ArgumentOutOfRangeException(nameof(PresenceTimeout), "The presence heartbeat must be positive and shorter than the presence timeout.");
        }

        if (TopicExpiry < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(TopicExpiry), "The topic expiry must be at least one second.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPendingPerTopic, 1);
        if (CommandTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(CommandTimeout), "The command timeout must be positive.");
        }
    }
}
