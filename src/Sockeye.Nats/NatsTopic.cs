using NATS.Client.Core;
using Sockeye.Topics;
using Sockeye.Topics.Backplanes;

namespace Sockeye.Nats;

/// <summary>One topic this node has subscribers for: its ordered delivery, and its NATS subscription.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A SemaphoreSlim whose wait handle is never used holds nothing to dispose; the subscription is disposed by Unsubscribe.")]
internal sealed class NatsTopic(string name, TopicSubjects subjects, OrderedDelivery delivery)
{
    /// <summary>Where delivery stands (stream positions with their stream sequences as tags, or a local epoch while NATS is away) and what waits for a sync.</summary>
    public OrderedDelivery Delivery { get; } = delivery;

    public Lock Lock => Delivery.Lock;

    /// <summary>Serializes this topic's subscribe and unsubscribe against NATS.</summary>
    public readonly SemaphoreSlim Gate = new(1, 1);

    public string Name { get; } = name;

    public TopicSubjects Subjects { get; } = subjects;

    public int Interest;
    public bool Removed => Delivery.IsClosed;
    public INatsSub<NatsMemoryOwner<byte>>? Subscription;
    public Task Reader = Task.CompletedTask;

    /// <summary>Someone has presence on this topic: sweep it for dead nodes.</summary>
    public bool HasPresence;
}

/// <summary>The last message of a topic in the stream: its position and stream sequence.</summary>
internal sealed record Tail(string Epoch, long Offset, ulong Seq);
