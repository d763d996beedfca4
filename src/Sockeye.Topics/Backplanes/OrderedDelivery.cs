using System.Text;
using Microsoft.Extensions.Logging;

namespace Sockeye.Topics.Backplanes;

/// <summary>
/// Reads a topic's position and the messages after <paramref name="knownEpoch"/>:<paramref name="from"/> (from 0:
/// none, only the position) for <see cref="OrderedDelivery.SyncAsync"/>.
/// </summary>
/// <param name="knownEpoch">The epoch delivered so far; null before the first sync.</param>
/// <param name="from">The first offset wanted (0: none).</param>
/// <param name="afterTag">The backplane's marker of the last delivered message (0 when unknown).</param>
public delegate Task<StreamRange> StreamRangeReader(string? knownEpoch, long from, ulong afterTag);

/// <summary>
/// The ordered delivery of one topic at one node of a scale-out backplane that numbers each topic's messages
/// (epoch, offset 1, 2, …): a building block for backplane authors. The backplane feeds it what arrives on its live
/// path (<see cref="Receive(string, long, MessageType, ReadOnlySpan{byte}, ulong)"/>) and a reader of its stream
/// (<see cref="SyncAsync"/>); it hands the sink each message once, in offset order: duplicates are dropped, a gap or a
/// new epoch holds what follows (at most <c>maxPending</c> messages) until a read of the stream fills the gap, and what
/// the stream no longer has is reported with <see cref="ITopicSink.OnDiscontinuity"/>. While the backplane's store is
/// unreachable, it numbers local deliveries in a local epoch (<see cref="EnterLocal"/>, <see cref="DeliverLocal"/>).
/// </summary>
/// <remarks>
/// Not thread-safe by itself: every member but <see cref="SyncAsync"/> is called while holding <see cref="Lock"/>,
/// which the backplane may also use for its own per-topic state. The sink is called under that lock.
/// </remarks>
public sealed class OrderedDelivery
{
    private readonly ITopicSink _sink;
    private readonly DeliveryCounters _counters;
    private readonly ILogger _log;
    private readonly string _backplane;
    private readonly int _maxPending;
    private readonly List<(TopicMessage Message, long Arrival, ulong Tag)> _pending = [];
    private byte[]? _epochUtf8;
    private long _arrivals;
    private string? _localEpoch;
    private long _localLast;

    /// <summary>Creates the sequencer of <paramref name="topic"/>.</summary>
    /// <param name="topic">The topic.</param>
    /// <param name="sink">Where messages and discontinuities go.</param>
    /// <param name="counters">The backplane's counters.</param>
    /// <param name="log">Logs each discontinuity (a warning).</param>
    /// <param name="backplane">The backplane's name in log lines (e.g. <c>redis</c>).</param>
    /// <param name="maxPending">At most this many messages wait for a sync; more are read from the stream again.</param>
    public OrderedDelivery(string topic, ITopicSink sink, DeliveryCounters counters, ILogger log, string backplane, int maxPending)
    {
        Topic = topic ?? throw new ArgumentNullException(nameof(topic));
        _sink = sink ?? throw new ArgumentNullException(nameof(sink));
        _counters = counters ?? throw new ArgumentNullException(nameof(counters));
        _log = log ?? throw new ArgumentNullException(nameof(log));
        _backplane = backplane ?? throw new ArgumentNullException(nameof(backplane));
        _maxPending = maxPending;
    }

    /// <summary>Guards this topic's delivery state.</summary>
    public Lock Lock { get; } = new();

    /// <summary>The topic.</summary>
    public string Topic { get; }

    /// <summary>The epoch delivered so far; null before the first sync.</summary>
    public string? Epoch { get; private set; }

    /// <summary>The offset delivered so far in <see cref="Epoch"/>.</summary>
    public long Last { get; private set; }

    /// <summary>The backplane's marker of <see cref="Last"/> (0 when unknown).</summary>
    public ulong LastTag { get; private set; }

    /// <summary>The sink's subscribers are at positions of a local epoch until the next sync.</summary>
    public bool IsLocal { get; private set; }

    /// <summary>A sync is running (or the first position is being read); arrivals wait for it.</summary>
    public bool IsSyncing { get; private set; }

    /// <summary>Another round of the sync is needed.</summary>
    public bool ResyncRequested { get; private set; }

    /// <summary>The topic is no longer delivered at this node (<see cref="Close"/>).</summary>
    public bool IsClosed { get; private set; }

    /// <summary>The position the sink's subscribers are at.</summary>
    public StreamPosition Current => IsLocal ? new StreamPosition(_localEpoch!, _localLast) : new StreamPosition(Epoch ?? "", Last);

    /// <summary>Marks a sync as running unless one is (or the topic is closed); true if the caller must run it.</summary>
    public bool TryBeginSync()
    {
        if (IsSyncing || IsClosed)
        {
            return false;
        }

        IsSyncing = true;
        return true;
    }

    /// <summary>Marks the sync as over without completing it (it failed, or it could not start).</summary>
    /// <param name="resync">Whether the next opportunity must sync again.</param>
    public void AbandonSync(bool resync)
    {
        IsSyncing = false;
        ResyncRequested |= resync;
    }

    /// <summary>Asks the running (or next) sync for another round.</summary>
    public void RequestResync() => ResyncRequested = true;

    /// <summary>Stops delivery and releases what waits.</summary>
    public void Close()
    {
        IsClosed = true;
        foreach ((TopicMessage message, _, _) in _pending)
        {
            message.Release();
        }

        _pending.Clear();
    }

    /// <summary>
    /// A message from the live path. Delivered at once when it is the next one; dropped when already delivered; held
    /// otherwise. Offset 0 (an epoch opened, no message) holds nothing. True when the caller must start a sync.
    /// </summary>
    public bool Receive(string epoch, long offset, MessageType type, ReadOnlySpan<byte> payload, ulong tag = 0) =>
        Receive(string.Equals(epoch, Epoch, StringComparison.Ordinal), epoch, default, offset, type, payload, tag);

    /// <summary>As <see cref="Receive(string, long, MessageType, ReadOnlySpan{byte}, ulong)"/>, the epoch in UTF-8 (no allocation when it is the known one).</summary>
    public bool Receive(ReadOnlySpan<byte> epochUtf8, long offset, MessageType type, ReadOnlySpan<byte> payload, ulong tag = 0) =>
        Receive(_epochUtf8 is { } known && epochUtf8.SequenceEqual(known), null, epochUtf8, offset, type, payload, tag);

    private bool Receive(bool sameEpoch, string? epoch, ReadOnlySpan<byte> epochUtf8, long offset, MessageType type, ReadOnlySpan<byte> payload, ulong tag)
    {
        if (IsClosed)
        {
            return false;
        }

        if (!IsSyncing && !IsLocal && sameEpoch)
        {
            if (offset <= Last)
            {
                if (offset > 0)
                {
                    _counters.CountDuplicate();
                }

                return false;
            }

            if (offset == Last + 1)
            {
                TopicMessage message = TopicMessage.Create(Topic, new StreamPosition(Epoch!, offset), type, payload);
                Last = offset;
                LastTag = tag;
                Deliver(message);
                return false;
            }
        }

        // A gap, another epoch (offset 0: a new epoch opened), or a sync under way: hold it and let the sync put it
        // in its place.
        _arrivals++;
        if (offset == 0 || _pending.Count >= _maxPending)
        {
            ResyncRequested = true; // dropped here, read from the stream (or reported) by the next round
        }
        else
        {
            string epochText = sameEpoch ? Epoch! : epoch ?? Encoding.UTF8.GetString(epochUtf8);
            _pending.Add((TopicMessage.Create(Topic, new StreamPosition(epochText, offset), type, payload), _arrivals, tag));
        }

        return true;
    }

    /// <summary>
    /// Reads the stream's position (and the range this node missed) and delivers in order: what the stream still has,
    /// a discontinuity for what it does not, then the messages that arrived meanwhile. Repeats while messages arrive
    /// that the read could not account for. Called with <see cref="IsSyncing"/> set (<see cref="TryBeginSync"/>);
    /// clears it when done. Takes <see cref="Lock"/> itself; an exception of <paramref name="read"/> leaves the sync
    /// marked running (the caller decides with <see cref="AbandonSync"/>).
    /// </summary>
    /// <param name="read">Reads the stream.</param>
    /// <param name="mayApply">Checked under the lock after each read: false drops the read and ends the sync (the backplane syncs again after it recovers).</param>
    public async Task SyncAsync(StreamRangeReader read, Func<bool> mayApply)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(mayApply);
        while (true)
        {
            string? known;
            long from;
            ulong afterTag;
            long arrivals;
            lock (Lock)
            {
                if (IsClosed)
                {
                    IsSyncing = false;
                    return;
                }

                known = Epoch;
                from = known is null ? 0 : Last + 1;
                afterTag = known is null ? 0 : LastTag;
                arrivals = _arrivals;
                ResyncRequested = false;
            }

            StreamRange range = await read(known, from, afterTag).ConfigureAwait(false);
            lock (Lock)
            {
                if (IsClosed || !mayApply())
                {
                    range.ReleaseAll();
                    IsSyncing = false;
                    return;
                }

                Apply(range, arrivals);
                if (!ResyncRequested && _pending.Count == 0)
                {
                    IsSyncing = false;
                    return;
                }
            }
        }
    }

    private void Apply(StreamRange range, long arrivalsBeforeRead)
    {
        if (Epoch is null)
        {
            // First sync: the node's subscribers start at the stream's current position.
            if (IsLocal)
            {
                Discontinuity(new StreamPosition(range.Epoch, range.Offset));
            }

            SetEpoch(range.Epoch);
            Last = range.Offset;
            LastTag = range.Tag;
            IsLocal = false;
        }
        else
        {
            bool mustReset = IsLocal; // the subscribers are at local positions
            foreach ((TopicMessage message, ulong tag) in range.Messages)
            {
                StreamPosition position = message.Position;
                bool same = string.Equals(position.Epoch, Epoch, StringComparison.Ordinal);
                if (same && position.Offset <= Last)
                {
                    message.Release();
                    continue;
                }

                if (mustReset || !same || position.Offset != Last + 1)
                {
                    Discontinuity(new StreamPosition(position.Epoch, position.Offset - 1));
                    mustReset = false;
                    SetEpoch(position.Epoch);
                }

                IsLocal = false;
                Last = position.Offset;
                LastTag = tag;
                _counters.CountFetched();
                Deliver(message);
            }

            // What the stream no longer has (or never kept) up to its end, or up to the first message that waits in
            // Pending: the subscribers must hear of the gap.
            bool sameStream = string.Equals(range.Epoch, Epoch, StringComparison.Ordinal);
            long after = sameStream ? Last : 0;
            long resume = range.Offset;
            foreach ((TopicMessage message, _, _) in _pending)
            {
                StreamPosition waiting = message.Position;
                if (waiting.Offset > after && waiting.Offset <= resume && string.Equals(waiting.Epoch, range.Epoch, StringComparison.Ordinal))
                {
                    resume = waiting.Offset - 1;
                }
            }

            if (mustReset || !sameStream || Last < resume)
            {
                Discontinuity(new StreamPosition(range.Epoch, resume));
                SetEpoch(range.Epoch);
                Last = resume;
                LastTag = resume == range.Offset ? range.Tag : 0;
            }

            IsLocal = false;
        }

        range.Messages.Clear();
        int done = 0;
        for (; done < _pending.Count; done++)
        {
            (TopicMessage message, long arrival, ulong tag) = _pending[done];
            bool same = string.Equals(message.Position.Epoch, Epoch, StringComparison.Ordinal);
            if (same && message.Position.Offset <= Last)
            {
                _counters.CountDuplicate();
                message.Release();
            }
            else if (same && message.Position.Offset == Last + 1)
            {
                Last = message.Position.Offset;
                LastTag = tag;
                Deliver(message);
            }
            else if (arrival > arrivalsBeforeRead)
            {
                break; // arrived after the read: another round reads the stream again
            }
            else if (same)
            {
                // Stored before the read, and what precedes it is neither in the stream nor here: a gap to report.
                Discontinuity(new StreamPosition(Epoch!, message.Position.Offset - 1));
                Last = message.Position.Offset;
                LastTag = tag;
                Deliver(message);
            }
            else
            {
                // Stored before the read, which saw another epoch: an older one, already accounted for.
                message.Release();
            }
        }

        _pending.RemoveRange(0, done);
    }

    /// <summary>
    /// The store is unreachable: the subscribers continue at positions of <paramref name="localEpoch"/> (told with a
    /// discontinuity when <paramref name="announce"/>) until the next sync tells them where the stream is.
    /// </summary>
    public void EnterLocal(string localEpoch, bool announce)
    {
        IsLocal = true;
        _localEpoch = localEpoch ?? throw new ArgumentNullException(nameof(localEpoch));
        _localLast = 0;
        if (announce)
        {
            Discontinuity(new StreamPosition(localEpoch, 0));
        }
    }

    /// <summary>Delivers a message published while local at the next local position, and returns that position.</summary>
    public StreamPosition DeliverLocal(MessageType type, ReadOnlySpan<byte> payload)
    {
        if (!IsLocal)
        {
            throw new InvalidOperationException("The topic is not local; call EnterLocal first.");
        }

        var position = new StreamPosition(_localEpoch!, ++_localLast);
        Deliver(TopicMessage.Create(Topic, position, type, payload));
        return position;
    }

    // Hands the message (and its reference) to the sink.
    private void Deliver(TopicMessage message)
    {
        try
        {
            _sink.OnMessage(message);
        }
        finally
        {
            message.Release();
        }
    }

    private void Discontinuity(StreamPosition current)
    {
        _counters.CountDiscontinuity();
        _log.LogWarning("{Backplane} backplane: '{Topic}' continues at {Epoch}:{Offset}; the messages in between are not available", _backplane, Topic, current.Epoch, current.Offset);
        _sink.OnDiscontinuity(Topic, current);
    }

    private void SetEpoch(string epoch)
    {
        if (!string.Equals(Epoch, epoch, StringComparison.Ordinal))
        {
            Epoch = epoch;
            _epochUtf8 = Encoding.UTF8.GetBytes(epoch);
        }
    }
}
