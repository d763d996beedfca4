using Microsoft.Extensions.Logging;
using Sockeye.Topics;
using StackExchange.Redis;
using StreamPosition = Sockeye.Topics.StreamPosition;

namespace Sockeye.Redis;

// While Redis is unreachable: local delivery in a local epoch, and the way back (docs/scale-out.md, "Failure modes").
public sealed partial class RedisBackplane
{
    // Local delivery only: the subscribers of this node get the message at a position of a local epoch (they were
    // told with a discontinuity when the topic went local), nothing is kept or queued for Redis, and the recovery tells
    // them where the Redis stream is. Without local subscribers there is nobody to deliver to: refused.
    private StreamPosition PublishLocal(string topic, MessageType type, ReadOnlySpan<byte> payload)
    {
        if (!_topics.TryGetValue(topic, out RedisTopic? state))
        {
            Interlocked.Increment(ref _failedPublishes);
            throw new TopicException("unavailable", "redis is unreachable and this node has no subscribers of the topic");
        }

        lock (state.Lock)
        {
            if (state.Removed)
            {
                throw new TopicException("unavailable", "redis is unreachable and this node has no subscribers of the topic");
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
    private void EnterLocal(RedisTopic state, bool announce) => state.Delivery.EnterLocal($"local-{_node}-{NextEpoch()}", announce);

    // Where this node's subscribers are; only that position (nothing before it) can be resumed while Redis is away.
    private static HistoryRead ReadLocal(string topic, RedisTopic? state, StreamPosition? since)
    {
        if (state is null)
        {
            throw new TopicException("unavailable", $"redis is unreachable; the topic '{topic}' cannot be read");
        }

        lock (state.Lock)
        {
            if (state.Delivery.Epoch is null && !state.Delivery.IsLocal)
            {
                state.Delivery.EnterLocal($"local-{Guid.NewGuid():N}", announce: false);
            }

            StreamPosition current = state.Delivery.Current;
            return new HistoryRead(current, since is { } from && from == current);
        }
    }

    private void MarkDown(string reason)
    {
        bool was = IsConnected;
        _interactiveUp = _subscriptionUp = _redis.IsConnected && _interactiveUp && _subscriptionUp;
        if (was && !IsConnected)
        {
            CountOutage(reason);
        }
    }

    private void CountOutage(string reason)
    {
        Interlocked.Increment(ref _outages);
        Interlocked.Exchange(ref _downSinceMs, Environment.TickCount64);
        _log.LogError("redis backplane: redis is unreachable ({Reason}); delivering locally until it is back", reason);
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

        if (IsConnected && !_stop.IsCancellationRequested)
        {
            long down = Environment.TickCount64 - Interlocked.Read(ref _downSinceMs);
            _log.LogWarning("redis backplane: redis is reachable again after {Seconds:0.0} s; catching up", down / 1000.0);
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
            foreach (RedisTopic state in _topics.Values)
            {
                await RelistenAsync(state).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            _log.LogWarning("redis backplane: recovery interrupted, retried at the next reconnect or heartbeat: {Reason}", ex.Message);
        }
    }

    private async Task RelistenAsync(RedisTopic state)
    {
        await state.Gate.WaitAsync(_stop.Token).ConfigureAwait(false);
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

            await _subscriber.PublishAsync(state.Keys.Channel, "p" + _node).ConfigureAwait(false);
        }
        finally
        {
            state.Gate.Release();
        }
    }
}
