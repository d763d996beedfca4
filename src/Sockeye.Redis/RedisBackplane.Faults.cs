using Microsoft.Extensions.Logging;
using Sockeye.Topics;
using StackExchange.Redis;
using StreamPosition = Sockeye.Topics.StreamPosition;

namespace Sockeye.Redis;

// While Redis is unreachable: noticing it, and the way back (docs/scale-out.md, "Failure modes"); the local delivery
// meanwhile is ScaleOutBackplane's.
public sealed partial class RedisBackplane
{
    /// <inheritdoc/>
    protected override void MarkDown(string reason) => RefreshLink(reason, reconnected: false);

    /// <summary>
    /// While down, each heartbeat looks at the multiplexer itself: should an event ever be missed or read a state that
    /// changed again, the node still comes back (and catches up) within a heartbeat of Redis being reachable.
    /// </summary>
    protected override Task OnHeartbeatWhileDownAsync()
    {
        RefreshLink("heartbeat", reconnected: false);
        return Task.CompletedTask;
    }

    // StackExchange.Redis raises each of these events from the thread pool, queued on its own
    // (ConnectionMultiplexer.CompleteAsWorker), so they run in any order, even at once. And it reconnects a dropped
    // connection at once, before it reports the failure (PhysicalConnection.RecordConnectionFailed: the bridge's
    // OnDisconnected calls TryConnect, then OnConnectionFailed raises the event): on loopback, the "restored" of the
    // new connection can be handled before the "failed" of the old one. So an event's type never sets the state:
    // each event reads the multiplexer's (RefreshLink).
    internal void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e) =>
        RefreshLink($"{e.ConnectionType} connection: {e.FailureType}", reconnected: false);

    internal void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) =>
        RefreshLink($"{e.ConnectionType} connection restored", reconnected: true);

    /// <summary>
    /// Sets <see cref="IsConnected"/> from the multiplexer's connections as they are now (the command and the pub/sub
    /// one), counts an outage when that takes the node down, and starts the recovery when it brings the node back or a
    /// connection was <paramref name="reconnected"/> (its channels were subscribed again, and what was published while
    /// it was away must be fetched from the streams).
    /// </summary>
    private void RefreshLink(string reason, bool reconnected)
    {
        bool wasUp;
        bool up;
        lock (_link)
        {
            // Read under the lock: whichever event is handled last reads a state at least as new as every event's.
            wasUp = _up;
            up = _redis.IsConnected && _subscriber.IsConnected();
            _up = up;
            if (wasUp && !up)
            {
                CountOutage(reason);
            }
        }

        if (up && (reconnected || !wasUp) && !IsStopping)
        {
            if (wasUp)
            {
                Log.LogInformation("redis backplane: {Reason}; catching up", reason);
            }
            else
            {
                Log.LogWarning("redis backplane: redis is reachable again after {Seconds:0.0} s; catching up", Downtime.TotalSeconds);
            }

            _ = Task.Run(RecoverAsync);
        }
    }

    // After a reconnect: presence first (this node may have been swept, or Redis lost it), then every topic listens
    // again, sends a probe and syncs when the probe comes back (nothing can be missed after that), or says it can't.
    private async Task RecoverAsync()
    {
        try
        {
            await HeartbeatAsync(rejoin: true).ConfigureAwait(false);
            foreach (RedisTopic state in Topics.Values)
            {
                await RelistenAsync(state).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            Log.LogWarning("redis backplane: recovery interrupted, retried at the next reconnect or heartbeat: {Reason}", ex.Message);
        }
    }

    private async Task RelistenAsync(RedisTopic state)
    {
        await state.Gate.WaitAsync(Stopping).ConfigureAwait(false);
        try
        {
            if (state.Removed)
            {
                return;
            }

            if (state.Queue is null)
            {
                await ListenAsync(state).ConfigureAwait(false);
            }

            lock (state.Lock)
            {
                state.AwaitingProbe = true;
                StartSync(state); // at once for what is already known; again when the probe returns
            }

            await _subscriber.PublishAsync(state.Keys.Channel, "p" + NodeId).ConfigureAwait(false);
        }
        finally
        {
            state.Gate.Release();
        }
    }
}
