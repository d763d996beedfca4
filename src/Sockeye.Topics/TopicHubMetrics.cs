using System.Diagnostics.Metrics;

namespace Sockeye.Topics;

/// <summary>
/// A hub's <see cref="TopicHubCounters"/> as observable counters on a meter named <see cref="MeterName"/>: the hub
/// already counts, so nothing is added to the publish path; listeners read the counts when they collect.
/// </summary>
public static class TopicHubMetrics
{
    /// <summary>The meter name: <c>Sockeye.Topics</c> (one meter per <see cref="TopicHub"/>, released with it).</summary>
    public const string MeterName = "Sockeye.Topics";

    internal static Meter Create(TopicHub hub)
    {
        var meter = new Meter(MeterName);
        meter.CreateObservableCounter("sockeye.topics.published.messages", () => hub.Counters.Published, "{message}",
            "Messages published to the hub's topics.");
        meter.CreateObservableCounter("sockeye.topics.delivered.messages", () => hub.Counters.Delivered, "{message}",
            "Messages handed to subscribers' send queues.");
        meter.CreateObservableCounter("sockeye.topics.dropped.messages", () => hub.Counters.Dropped, "{message}",
            "Messages dropped for slow subscribers (SlowSubscriberPolicy.Drop).");
        meter.CreateObservableCounter("sockeye.topics.slow_subscriber.closes", () => hub.Counters.SlowSubscribersClosed, "{connection}",
            "Subscribers closed for falling behind (SlowSubscriberPolicy.Close).");
        return meter;
    }
}
