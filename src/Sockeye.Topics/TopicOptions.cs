namespace Sockeye.Topics;

/// <summary>Per-topic settings: history kept for resume, backpressure and presence.</summary>
public sealed record TopicOptions
{
    /// <summary>The default settings: no history, 1024 messages or 1 MiB queued per subscriber, close slow subscribers.</summary>
    public static TopicOptions Default { get; } = new();

    /// <summary>How many of the latest messages are kept for resume (0 = none, the default).</summary>
    public int HistorySize { get; init; }

    /// <summary>How long messages are kept for resume (null = no age limit; with <see cref="HistorySize"/> 0 and an age, the age alone bounds it).</summary>
    public TimeSpan? HistoryAge { get; init; }

    /// <summary>Most messages queued for one subscriber before <see cref="SlowSubscriberPolicy"/> applies.</summary>
    public int MaxQueuedMessages { get; init; } = 1024;

    /// <summary>Most payload bytes queued for one subscriber before <see cref="SlowSubscriberPolicy"/> applies.</summary>
    public long MaxQueuedBytes { get; init; } = 1024 * 1024;

    /// <summary>What to do with a subscriber that cannot keep up.</summary>
    public SlowSubscriberPolicy SlowSubscriberPolicy { get; init; } = SlowSubscriberPolicy.Close;

    /// <summary>Track who is subscribed and send join/leave events to <c>sockeye.v1</c> subscribers.</summary>
    public bool Presence { get; init; }

    /// <summary>True when messages are kept at all.</summary>
    public bool KeepsHistory => HistorySize > 0 || HistoryAge is not null;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(HistorySize);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedMessages, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedBytes, 1);
        if (HistoryAge is { } age && age <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(HistoryAge), "The history age must be positive.");
        }
    }
}
