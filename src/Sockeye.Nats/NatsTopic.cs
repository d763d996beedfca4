using NATS.Client.Core;
using Sockeye.Topics;

namespace Sockeye.Nats;

/// <summary>One topic this node has subscribers for: where its delivery stands, and what waits for a sync.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A SemaphoreSlim whose wait handle is never used holds nothing to dispose; the subscription is disposed by Unsubscribe.")]
internal sealed class NatsTopic(string name, TopicSubjects subjects)
{
    public readonly Lock Lock = new();

    /// <summary>Serializes this topic's subscribe and unsubscribe against NATS.</summary>
    public readonly SemaphoreSlim Gate = new(1, 1);

    public string Name { get; } = name;

    public TopicSubjects Subjects { get; } = subjects;

    public int Interest;
    public bool Removed;
    public INatsSub<NatsMemoryOwner<byte>>? Subscription;
    public Task Reader = Task.CompletedTask;

    /// <summary>The position delivered to the sink so far; null before the first sync.</summary>
    public string? Epoch;
    public long Last;

    /// <summary>The stream sequence of <see cref="Last"/> (0 when unknown): where a fill of a missed range starts.</summary>
    public ulong LastSeq;

    /// <summary>
    /// NATS was unreachable when this node published to the topic: the sink has been told to continue in a local
    /// epoch (positions that only this node knows) until the next sync tells it where the stream is.
    /// </summary>
    public bool Local;
    public string? LocalEpoch;
    public long LocalLast;

    /// <summary>A sync (read of the position, fill of a missed range) is running; messages wait in <see cref="Pending"/>.</summary>
    public bool Syncing;
    public readonly List<Pending> Pending = [];
    public long Arrivals;

    /// <summary>Another round of the sync is needed (messages were dropped from Pending, or a reconnect happened).</summary>
    public bool Resync;

    /// <summary>Someone has presence on this topic: sweep it for dead nodes.</summary>
    public bool HasPresence;

    /// <summary>The position the sink's subscribers are at.</summary>
    public StreamPosition Current => Local ? new StreamPosition(LocalEpoch!, LocalLast) : new StreamPosition(Epoch ?? "", Last);
}

/// <summary>A message received while a sync runs, with the order it arrived in and its stream sequence.</summary>
internal readonly record struct Pending(TopicMessage Message, long Arrival, ulong Seq);

/// <summary>The last message of a topic in the stream: its position and stream sequence.</summary>
internal sealed record Tail(string Epoch, long Offset, ulong Seq);
