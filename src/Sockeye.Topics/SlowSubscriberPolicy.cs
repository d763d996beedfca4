namespace Sockeye.Topics;

/// <summary>What happens to a subscriber whose outgoing queue is full (it reads slower than the topic publishes).</summary>
public enum SlowSubscriberPolicy
{
    /// <summary>Close the subscriber's connection with 1008 "subscriber too slow" (the default). Others never wait.</summary>
    Close,

    /// <summary>Drop the oldest queued messages; a <c>sockeye.v1</c> subscriber is told the dropped offsets.</summary>
    DropOldest,

    /// <summary>Make publishers on this node wait until the subscriber has room (explicit, for lossless pipelines).</summary>
    Wait,
}
