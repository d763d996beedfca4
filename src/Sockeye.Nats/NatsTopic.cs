using NATS.Client.Core;
using Sockeye.Topics;
using Sockeye.Topics.Backplanes;

namespace Sockeye.Nats;

/// <summary>One topic this node has subscribers for: its ordered delivery, and its NATS subscription.</summary>
internal sealed class NatsTopic(TopicSubjects subjects, OrderedDelivery delivery) : BackplaneTopic(delivery)
{
    public Lock Lock => Delivery.Lock;

    public TopicSubjects Subjects { get; } = subjects;

    public bool Removed => Delivery.IsClosed;
    public INatsSub<NatsMemoryOwner<byte>>? Subscription;
    public Task Reader = Task.CompletedTask;

    /// <summary>Someone has presence on this topic: sweep it for dead nodes.</summary>
    public bool HasPresence;
}

/// <summary>The last message of a topic in the stream: its position and stream sequence.</summary>
internal sealed record Tail(string Epoch, long Offset, ulong Seq);
