using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using Sockeye.Topics;

namespace Sockeye.Nats;

// While NATS is unreachable: noticing it, and the way back (docs/scale-out.md, "Failure modes"); the local delivery
// meanwhile is ScaleOutBackplane's.
public sealed partial class NatsBackplane
{
    /// <summary>
    /// A request failed: an outage only if the connection itself is gone (a slow answer is not one; the heartbeat
    /// retries what it interrupted).
    /// </summary>
    protected override void MarkDown(string reason)
    {
        if (_nats.ConnectionState != NatsConnectionState.Open && _up)
        {
            _up = false;
            CountOutage(reason);
        }
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
        if (!IsStopping)
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
            await _recovery.WaitAsync(Stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            if (_nats.ConnectionState != NatsConnectionState.Open || IsStopping)
            {
                return;
            }

            _tails.Clear();
            await EnsureStoreAsync().ConfigureAwait(false);
            await _nats.PingAsync(Stopping).ConfigureAwait(false);

            // Topics that never had a stream position (subscribed while NATS was away) listen and take the stream's
            // position before this node publishes to the stream again: a message it publishes next is then after
            // that position, never skipped by it.
            foreach (NatsTopic state in Topics.Values)
            {
                await state.Gate.WaitAsync(Stopping).ConfigureAwait(false);
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

                if (Outages > 0)
                {
                    Log.LogWarning("nats backplane: nats is reachable again after {Seconds:0.0} s; catching up", Downtime.TotalSeconds);
                }
            }

            // Then every topic catches up from the stream (what it missed while away), or is told what it can't.
            await HeartbeatAsync(rejoin: true).ConfigureAwait(false);
            foreach (NatsTopic state in Topics.Values)
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
            Log.LogWarning("nats backplane: recovery interrupted, retried at the next heartbeat: {Reason}", ex.Message);
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
