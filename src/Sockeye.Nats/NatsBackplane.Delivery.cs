using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using Sockeye.Topics;

namespace Sockeye.Nats;

public sealed partial class NatsBackplane
{
    // The first local subscriber: listen on the topic's delivery subject, then learn its position before returning, so
    // the hub's history read that follows is never behind what this node delivers next.
    /// <summary>Tests: drop this many deliveries, as the client does for a slow consumer (a gap the next message reveals).</summary>
    internal int DropDeliveries;

    private async Task ActivateAsync(NatsTopic state)
    {
        lock (state.Lock)
        {
            state.Syncing = true; // messages arriving before the position is known wait in Pending
        }

        if (IsConnected)
        {
            try
            {
                await ListenAsync(state).ConfigureAwait(false);
                await SyncAsync(state).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (IsNatsFailure(ex))
            {
                MarkDown(ex.Message);
            }
        }

        lock (state.Lock)
        {
            state.Syncing = false;
            if (state.Epoch is null && !state.Local)
            {
                EnterLocal(state, announce: false); // nobody has a position yet; the recovery resets to the stream's
            }
        }
    }

    private async Task ListenAsync(NatsTopic state)
    {
        if (state.Subscription is null)
        {
            INatsSub<NatsMemoryOwner<byte>> subscription = await _nats.SubscribeCoreAsync(state.Subjects.Delivery, serializer: ReplySerializer).ConfigureAwait(false);
            state.Subscription = subscription;
            state.Reader = Task.Run(() => ReadDeliveriesAsync(state, subscription));
        }

        // The server handles this connection's commands in order: once the ping is answered, the subscription is in
        // place, and a position read after it misses nothing published later.
        await _nats.PingAsync(_stop.Token).ConfigureAwait(false);
    }

    private static async Task StopListeningAsync(NatsTopic state)
    {
        if (state.Subscription is { } subscription)
        {
            state.Subscription = null;
            try
            {
                await subscription.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (IsNatsFailure(ex))
            {
                // Unsubscribing from a server that is gone: nothing to undo there.
            }

            await state.Reader.ConfigureAwait(false);
        }
    }

    // One topic's deliveries, in the order the server sent them (the stream's order).
    private async Task ReadDeliveriesAsync(NatsTopic state, INatsSub<NatsMemoryOwner<byte>> subscription)
    {
        try
        {
            await foreach (NatsMsg<NatsMemoryOwner<byte>> message in subscription.Msgs.ReadAllAsync().ConfigureAwait(false))
            {
                using NatsMemoryOwner<byte> data = message.Data;
                if (DropDeliveries > 0 && Interlocked.Decrement(ref DropDeliveries) >= 0)
                {
                    continue; // tests: as a slow consumer's dropped message
                }

                try
                {
                    if (NatsWire.Header(message.Headers, NatsWire.Presence) is { } presence)
                    {
                        OnPresenceEvent(state, message.Headers!, data.Memory.Span, joined: presence == "j");
                    }
                    else
                    {
                        (string epoch, long offset, MessageType type, ulong seq) = ParseStored(message.Headers);
                        OnStreamMessage(state, epoch, offset, type, seq, data.Memory.Span);
                    }
                }
                catch (Exception ex) when (ex is FormatException or NatsException)
                {
                    _log.LogWarning("nats backplane: malformed message on '{Topic}' ignored: {Reason}", state.Name, ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void OnStreamMessage(NatsTopic state, string epoch, long offset, MessageType type, ulong seq, ReadOnlySpan<byte> payload)
    {
        lock (state.Lock)
        {
            if (state.Removed)
            {
                return;
            }

            bool sameEpoch = string.Equals(epoch, state.Epoch, StringComparison.Ordinal);
            if (!state.Syncing && !state.Local && sameEpoch)
            {
                if (offset <= state.Last)
                {
                    if (offset > 0)
                    {
                        Interlocked.Increment(ref _duplicates);
                    }

                    return;
                }

                if (offset == state.Last + 1)
                {
                    TopicMessage message = TopicMessage.Create(state.Name, new StreamPosition(state.Epoch!, offset), type, payload);
                    state.Last = offset;
                    state.LastSeq = seq;
                    Deliver(message);
                    return;
                }
            }

            // A gap, another epoch (offset 0: a new epoch opened), or a sync under way: hold it and let the sync put
            // it in its place.
            state.Arrivals++;
            if (offset == 0)
            {
                state.Resync = true;
            }
            else if (state.Pending.Count >= _options.MaxPendingPerTopic)
            {
                state.Resync = true; // dropped here, read from the stream (or reported) by the next round
            }
            else
            {
                state.Pending.Add(new Pending(TopicMessage.Create(state.Name, new StreamPosition(sameEpoch ? state.Epoch! : epoch, offset), type, payload), state.Arrivals, seq));
            }

            StartSync(state);
        }
    }

    // Under state.Lock.
    private void StartSync(NatsTopic state)
    {
        if (state.Syncing || state.Removed)
        {
            return;
        }

        state.Syncing = true;
        _ = Task.Run(async () =>
        {
            try
            {
                await SyncAsync(state).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsNatsFailure(ex))
            {
                _log.LogDebug("nats backplane: sync of '{Topic}' failed, retried after reconnecting: {Reason}", state.Name, ex.Message);
                lock (state.Lock)
                {
                    state.Syncing = false;
                    state.Resync = true; // the heartbeat retries it
                }

                MarkDown(ex.Message);
            }
        });
    }

    /// <summary>
    /// Reads the topic's position (and the range this node missed) and delivers in order: what the stream still has,
    /// a discontinuity for what it does not, then the messages that arrived meanwhile. Repeats while messages arrive
    /// that the read could not account for. Called with <see cref="NatsTopic.Syncing"/> set; clears it. While
    /// <paramref name="recovering"/>, it applies what it read though the backplane is not up yet.
    /// </summary>
    private async Task SyncAsync(NatsTopic state, bool recovering = false)
    {
        while (true)
        {
            string? known;
            long from;
            ulong afterSeq;
            long arrivals;
            lock (state.Lock)
            {
                if (state.Removed)
                {
                    state.Syncing = false;
                    return;
                }

                known = state.Epoch;
                from = known is null ? 0 : state.Last + 1;
                afterSeq = known is null ? 0 : state.LastSeq;
                arrivals = state.Arrivals;
                state.Resync = false;
            }

            Range range = await ReadRangeAsync(state.Name, state.Subjects, known ?? "", from, afterSeq, restart: true, CancellationToken.None).ConfigureAwait(false);
            lock (state.Lock)
            {
                if (state.Removed || !(IsConnected || recovering))
                {
                    ReleaseAll(range.Messages);
                    state.Syncing = false; // the recovery after the reconnect syncs again
                    return;
                }

                Apply(state, range, arrivals);
                if (!state.Resync && state.Pending.Count == 0)
                {
                    state.Syncing = false;
                    return;
                }
            }
        }
    }

    // Under state.Lock.
    private void Apply(NatsTopic state, Range range, long arrivalsBeforeRead)
    {
        if (state.Epoch is null)
        {
            // First sync: the node's subscribers start at the topic's current position.
            if (state.Local)
            {
                Discontinuity(state, new StreamPosition(range.Epoch, range.Offset));
            }

            state.Epoch = range.Epoch;
            state.Last = range.Offset;
            state.LastSeq = range.Seq;
            state.Local = false;
        }
        else
        {
            bool mustReset = state.Local; // the subscribers are at local positions
            foreach (Fetched fetched in range.Messages)
            {
                TopicMessage message = fetched.Message;
                StreamPosition position = message.Position;
                bool same = string.Equals(position.Epoch, state.Epoch, StringComparison.Ordinal);
                if (same && position.Offset <= state.Last)
                {
                    message.Release();
                    continue;
                }

                if (mustReset || !same || position.Offset != state.Last + 1)
                {
                    Discontinuity(state, new StreamPosition(position.Epoch, position.Offset - 1));
                    mustReset = false;
                    state.Epoch = position.Epoch;
                }

                state.Local = false;
                state.Last = position.Offset;
                state.LastSeq = fetched.Seq;
                Interlocked.Increment(ref _fetched);
                Deliver(message);
            }

            // What the stream no longer has (or never kept) up to its end, or up to the first message that waits in
            // Pending: the subscribers must hear of the gap.
            bool sameStream = string.Equals(range.Epoch, state.Epoch, StringComparison.Ordinal);
            long after = sameStream ? state.Last : 0;
            long resume = range.Offset;
            foreach (Pending pending in state.Pending)
            {
                StreamPosition waiting = pending.Message.Position;
                if (waiting.Offset > after && waiting.Offset <= resume && string.Equals(waiting.Epoch, range.Epoch, StringComparison.Ordinal))
                {
                    resume = waiting.Offset - 1;
                }
            }

            if (mustReset || !sameStream || state.Last < resume)
            {
                Discontinuity(state, new StreamPosition(range.Epoch, resume));
                state.Epoch = range.Epoch;
                state.Last = resume;
                state.LastSeq = resume == range.Offset ? range.Seq : 0;
            }

            state.Local = false;
        }

        range.Messages.Clear();
        int done = 0;
        for (; done < state.Pending.Count; done++)
        {
            Pending pending = state.Pending[done];
            TopicMessage message = pending.Message;
            bool same = string.Equals(message.Position.Epoch, state.Epoch, StringComparison.Ordinal);
            if (same && message.Position.Offset <= state.Last)
            {
                Interlocked.Increment(ref _duplicates);
                message.Release();
            }
            else if (same && message.Position.Offset == state.Last + 1)
            {
                state.Last = message.Position.Offset;
                state.LastSeq = pending.Seq;
                Deliver(message);
            }
            else if (pending.Arrival > arrivalsBeforeRead)
            {
                break; // arrived after the read: another round reads the stream again
            }
            else if (same)
            {
                // Stored before the read, and what precedes it is neither in the stream nor here: a gap to report.
                Discontinuity(state, new StreamPosition(state.Epoch!, message.Position.Offset - 1));
                state.Last = message.Position.Offset;
                state.LastSeq = pending.Seq;
                Deliver(message);
            }
            else
            {
                // Stored before the read, which saw another epoch: an older one, already accounted for.
                message.Release();
            }
        }

        state.Pending.RemoveRange(0, done);
    }

    // Under state.Lock: hands the message (and its reference) to the sink.
    private void Deliver(TopicMessage message)
    {
        try
        {
            Sink.OnMessage(message);
        }
        finally
        {
            message.Release();
        }
    }

    private void Discontinuity(NatsTopic state, StreamPosition current)
    {
        Interlocked.Increment(ref _resets);
        _log.LogWarning("nats backplane: '{Topic}' continues at {Epoch}:{Offset}; the messages in between are not available", state.Name, current.Epoch, current.Offset);
        Sink.OnDiscontinuity(state.Name, current);
    }
}
