using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using Sockeye.Topics;

namespace Sockeye.Nats;

// While NATS is unreachable: local delivery in a local epoch, and the way back (docs/scale-out.md, "Failure modes").
public sealed partial class NatsBackplane
{
    // Local delivery only: the subscribers of this node get the message at a position of a local epoch (they were
    // told with a discontinuity when the topic went local), nothing is kept or queued for NATS, and the recovery tells
    // them where the stream is. Without local subscribers there is nobody to deliver to: refused.
    private StreamPosition PublishLocal(string topic, MessageType type, ReadOnlySpan<byte> payload)
    {
        if (!_topics.TryGetValue(topic, out NatsTopic? state))
        {
            Interlocked.Increment(ref _failedPublishes);
            throw new TopicException("unavailable", "nats is unreachable and this node has no subscribers of the topic");
        }

        lock (state.Lock)
        {
            if (state.Removed)
            {
                throw new TopicException("unavailable", "nats is unreachable and this node has no subscribers of the topic");
            }

            if (!state.Delivery.IsLocal)
            {
                EnterLocal(state, announce: true);
            }

            StreamPosition position = state.Delivery.DeliverLocal(type, payload);
            Interlocked.Increment(ref _localPublishes);
            return position;
        }
    }

    // Under state.Lock.
    private void EnterLocal(NatsTopic state, bool announce) => state.Delivery.EnterLocal($"local-{_node}-{NextEpoch()}", announce);

    // Where this node's subscribers are; only that position (nothing before it) can be resumed while NATS is away.
    private HistoryRead ReadLocal(string topic, NatsTopic? state, StreamPosition? since)
    {
        if (state is null)
        {
            throw new TopicException("unavailable", $"nats is unreachable; the topic '{topic}' cannot be read");
        }

        lock (state.Lock)
        {
            if (state.Delivery.Epoch is null && !state.Delivery.IsLocal)
            {
                EnterLocal(state, announce: false);
            }

            StreamPosition current = state.Delivery.Current;
            return new HistoryRead(current, since is { } from && from == current);
        }
    }

    // A request failed: an outage only if the connection itself is gone (a slow answer is not one; the heartbeat
    // retries what it interrupted).
    private void MarkDown(string reason)
    {
        if (_nats.ConnectionState != NatsConnectionState.Open && _up)
        {
            _up = false;
            CountOutage(reason);
        }
    }

    private void CountOutage(string reason)
    {
        Interlocked.Increment(ref _outages);
        Interlocked.Exchange(ref _downSinceMs, Environment.TickCount64);
        _log.LogError("nats backplane: nats is unreachable ({Reason}); delivering locally until it is back", reason);
    }

    private ValueTask OnDisconnectedAsync(object? sender, NatsEventArgs args)
    {
        _tails.Clear(); // what comes back may be another stream: positions are read again
        if (_up)
        {
            _up = false;
            CountOutage($"disconnected from {args.Message}");
        }

        return ValueTask.CompletedTask;
    }

    private ValueTask OnOpenedAsync(object? sender, NatsEventArgs args)
    {
        if (!_stop.IsCancellationRequested)
        {
            _ = Task.Run(RecoverAsync);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// After a (re)connect: the stream and buckets exist again (a NATS that lost its data gets them back), the
    /// client's resubscriptions are in place (a ping answered after them), presence is sent again (this node may have
    /// been swept, or NATS lost it), then every topic syncs: caught up from the stream, or told with <c>reset</c>.
    /// Retried by the heartbeat when interrupted.
    /// </summary>
    private async Task RecoverAsync()
    {
        try
        {
            await _recovery.WaitAsync(_stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            if (_nats.ConnectionState != NatsConnectionState.Open || _stop.IsCancellationRequested)
            {
                return;
            }

            _tails.Clear();
            await EnsureStoreAsync().ConfigureAwait(false);
            await _nats.PingAsync(_stop.Token).ConfigureAwait(false);

            // Topics that never had a stream position (subscribed while NATS was away) listen and take the stream's
            // position before this node publishes to the stream again: a message it publishes next is then after
            // that position, never skipped by it.
            foreach (NatsTopic state in _topics.Values)
            {
                await state.Gate.WaitAsync(_stop.Token).ConfigureAwait(false);
                bool first = false;
                try
                {
                    if (state.Removed)
                    {
                        continue;
                    }

                    if (state.Subscription is null)
                    {
                        await ListenAsync(state).ConfigureAwait(false);
                    }

                    lock (state.Lock)
                    {
                        first = state.Delivery.Epoch is null && state.Delivery.TryBeginSync();
                    }

                    if (first)
                    {
                        await SyncAsync(state, recovering: true).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (first && IsNatsFailure(ex))
                {
                    lock (state.Lock)
                    {
                        state.Delivery.AbandonSync(resync: false);
                    }

                    throw;
                }
                finally
                {
                    state.Gate.Release();
                }
            }

            if (!_up)
            {
                _up = true;
                if (_nats.ConnectionState != NatsConnectionState.Open)
                {
                    _up = false; // dropped again meanwhile: the next reconnect recovers
                    return;
                }

                if (Interlocked.Read(ref _outages) > 0)
                {
                    long down = Environment.TickCount64 - Interlocked.Read(ref _downSinceMs);
                    _log.LogWarning("nats backplane: nats is reachable again after {Seconds:0.0} s; catching up", down / 1000.0);
                }
            }

            // Then every topic catches up from the stream (what it missed while away), or is told what it can't.
            await HeartbeatAsync(rejoin: true).ConfigureAwait(false);
            foreach (NatsTopic state in _topics.Values)
            {
                lock (state.Lock)
                {
                    state.Delivery.RequestResync();
                    StartSync(state);
                }
            }
        }
        catch (Exception ex) when (IsNatsFailure(ex))
        {
            _log.LogWarning("nats backplane: recovery interrupted, retried at the next heartbeat: {Reason}", ex.Message);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _recovery.Release();
        }
    }
}
