using Microsoft.Extensions.Logging;

namespace Sockeye.Nats;

/// <summary>Settings of a <see cref="NatsBackplane"/> (docs/scale-out.md, "NATS JetStream").</summary>
public sealed class NatsBackplaneOptions
{
    /// <summary>The NATS server: <c>nats://host:port</c> (<c>tls://</c> for TLS; several URLs separated by commas).</summary>
    public string Url { get; set; } = "nats://localhost:4222";

    /// <summary>
    /// The first subject tokens of everything this backplane uses (letters, digits, <c>-</c>, <c>_</c>, tokens separated
    /// by dots), and the base of its stream and bucket names: several applications can share one NATS account.
    /// </summary>
    public string Prefix { get; set; } = "sockeye";

    /// <summary>This node's id (presence ownership); null for a random one. Distinct per node.</summary>
    public string? NodeId { get; set; }

    /// <summary>How often this node refreshes its liveness and sweeps the presence of dead nodes.</summary>
    public TimeSpan PresenceHeartbeat { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A node not heard from for this long is dead (its liveness key ages out of the nodes bucket): its members leave
    /// every topic's presence within <see cref="PresenceTimeout"/> + <see cref="PresenceHeartbeat"/>. The bucket's age
    /// limit, so every node of one application uses the same value.
    /// </summary>
    public TimeSpan PresenceTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Messages kept per topic in the stream (its <c>max_msgs_per_subject</c>; 0 = no count limit, only
    /// <see cref="TopicExpiry"/>). The last is always kept: it carries the topic's position. Resume also honours each
    /// topic's <c>HistorySize</c> and <c>HistoryAge</c>.
    /// </summary>
    public int HistoryPerTopic { get; set; } = 1000;

    /// <summary>
    /// A topic's messages leave the stream after this long (the stream's <c>max_age</c>); a topic idle longer starts a
    /// new epoch on its next publish. Bounds what abandoned topics leave in NATS.
    /// </summary>
    public TimeSpan TopicExpiry { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Keep the stream on disk (survives a nats-server restart) rather than in memory.</summary>
    public bool FileStorage { get; set; } = true;

    /// <summary>
    /// Messages held per topic while a range missed from NATS is fetched; past it the newest are dropped and fetched
    /// from the stream too (or reported with <c>reset</c> when the stream no longer has them).
    /// </summary>
    public int MaxPendingPerTopic { get; set; } = 10_000;

    /// <summary>How long one NATS request may take before it counts as failed (and the connect timeout).</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Where outages, recoveries and resets are logged.</summary>
    public ILogger? Logger { get; set; }

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Url);
        if (NatsSubjects.CheckPrefix(Prefix) is { } error)
        {
            throw new ArgumentException(error, nameof(Prefix));
        }

        if (PresenceHeartbeat <= TimeSpan.Zero || PresenceTimeout <= PresenceHeartbeat)
        {
            throw new ArgumentOutOfRangeException(nameof(PresenceTimeout), "The presence heartbeat must be positive and shorter than the presence timeout.");
        }

        if (TopicExpiry < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(TopicExpiry), "The topic expiry must be at least one second.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(HistoryPerTopic);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPendingPerTopic, 1);
        if (CommandTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(CommandTimeout), "The command timeout must be positive.");
        }
    }
}
