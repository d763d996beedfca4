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
    protected override void MarkDown(string reason)
    {
        bool was = IsConnected;
        _interactiveUp = _subscriptionUp = _redis.IsConnected && _interactiveUp && _subscriptionUp;
        if (was && !IsConnected)
        {
            CountOutage(reason);
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        bool was = IsConnected;
        if (e.ConnectionType == ConnectionType.Subscription)
        {
            _subscriptionUp = false;
        }
        else
        {
            _interactiveUp = false;
        }

        if (was)
        {
            CountOutage($"{e.ConnectionType} connection: {e.FailureType}");
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Subscription)
        {
            _subscriptionUp = true;
        }
        else
        {
            _interactiveUp = true;
        }

        if (IsConnected && !IsStopping)
        {
            Log.LogWarning("redis backplane: redis is reachable again after {Seconds:0.0} s; catching up", Downtime.TotalSeconds);
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
