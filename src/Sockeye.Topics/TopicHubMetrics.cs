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
        // Gauges summed over the subscribers when a listener collects: nothing on the delivery path.
        meter.CreateObservableGauge("sockeye.topics.subscribers", () => (long)hub.Subscribers.Count, "{connection}",
            "Connections with at least one subscription.");
        meter.CreateObservableGauge("sockeye.topics.queued.messages", () => Sum(hub, static s => s.QueuedMessages), "{message}",
            "Messages waiting in subscribers' send queues (the depth of the fan-out queues).");
        meter.CreateObservableGauge("sockeye.topics.queued.bytes", () => Sum(hub, static s => s.QueuedBytes), "By",
            "Payload bytes waiting in subscribers' send queues.");
        return meter;
    }

    private static long Sum(TopicHub hub, Func<Subscriber, long> read)
    {
        long total = 0;
        foreach (Subscriber subscriber in hub.Subscribers)
        {
            total += read(subscriber);
        }

        return total;
    }
}
