using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sockeye.Topics.Backplanes;

/// <summary>
/// The part of a scale-out backplane that does not depend on its store (docs/scale-out.md): a building block for
/// backplane authors, as the Redis and NATS backplanes use it. It keeps the topics this node has local subscribers for
/// (one <see cref="BackplaneTopic"/> each, created by <see cref="CreateTopic"/>), activates a topic on its first
/// subscriber (<see cref="ListenAsync"/>, then <see cref="SyncAsync"/>), runs a sync in the background when the live
/// path reports a gap (<see cref="StartSync"/>), and while the store is unreachable delivers locally in a local epoch
/// (<see cref="PublishLocal"/>, <see cref="ReadLocal"/>), counting outages. It remembers this node's presence members,
/// delivers joins and leaves locally while the store is away and writes them later (<see cref="RewritePresenceAsync"/>),
/// and runs the heartbeat (<see cref="StartHeartbeat"/>) and the shutdown (<see cref="DisposeAsync"/>). The store's
/// part, writing and reading the stream and the presence entries, is the derived class's.
/// </summary>
/// <remarks>
/// The derived class decides when the store is down (<see cref="IsConnected"/>, <see cref="MarkDown"/>, reporting each
/// outage with <see cref="CountOutage"/>) and how it recovers; members that say "under the topic's lock" expect
/// <see cref="OrderedDelivery.Lock"/> of that topic to be held.
/// </remarks>
public abstract partial class ScaleOutBackplane : ITopicBackplane
{
    private readonly string _epochPrefix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
    private readonly CancellationTokenSource _stop = new();
    private readonly int _maxPendingPerTopic;
    private readonly ConcurrentDictionary<string, BackplaneTopic> _topics = new(StringComparer.Ordinal);
    private Task _heartbeat = Task.CompletedTask;
    private ITopicSink? _sink;
    private long _generation;
    private long _downSinceMs;
    private long _outages;
    private long _localPublishes;
    private long _failedPublishes;

    /// <summary>Creates the backplane's store-independent state.</summary>
    /// <param name="storeName">The store's name in log lines and errors (e.g. <c>redis</c>).</param>
    /// <param name="nodeId">This node's id in the store; null: a random one.</param>
    /// <param name="log">Where outages, discontinuities and failures are logged; null: nowhere.</param>
    /// <param name="maxPendingPerTopic">At most this many messages of a topic wait for a sync (<see cref="OrderedDelivery"/>).</param>
    protected ScaleOutBackplane(string storeName, string? nodeId, ILogger? log, int maxPendingPerTopic)
    {
        StoreName = storeName ?? throw new ArgumentNullException(nameof(storeName));
        NodeId = nodeId ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        Log = log ?? NullLogger.Instance;
        _maxPendingPerTopic = maxPendingPerTopic;
    }

    /// <summary>This node's id in the store.</summary>
    public string NodeId { get; }

    /// <summary>True while the store is reachable; while false, delivery is local (<see cref="PublishLocal"/>).</summary>
    public abstract bool IsConnected { get; }

    /// <inheritdoc/>
    public virtual bool PreservesPublishOrder => false;

    /// <summary>The store's name in log lines and errors.</summary>
    protected string StoreName { get; }

    /// <summary>The backplane's log.</summary>
    protected ILogger Log { get; }

    /// <summary>The topics this node has local subscribers for, by name (kept by <see cref="SubscribeAsync"/> and <see cref="UnsubscribeAsync"/>).</summary>
    protected IReadOnlyDictionary<string, BackplaneTopic> Topics => _topics;

    /// <summary>The counters of the topics' <see cref="OrderedDelivery"/>.</summary>
    protected DeliveryCounters Delivery { get; } = new();

    /// <summary>The hub the backplane delivers to.</summary>
    protected ITopicSink Sink => _sink ?? throw new InvalidOperationException("The backplane has no sink; attach it to a TopicHub first.");

    /// <summary>Canceled when the backplane is disposed.</summary>
    protected CancellationToken Stopping => _stop.Token;

    /// <summary>True once <see cref="DisposeAsync"/> began (also after it ended).</summary>
    protected bool IsStopping => _stop.IsCancellationRequested;

    /// <summary>Times the store became unreachable.</summary>
    protected long Outages => Interlocked.Read(ref _outages);

    /// <summary>Messages published while the store was unreachable, delivered on this node only in a local epoch.</summary>
    protected long LocalPublishes => Interlocked.Read(ref _localPublishes);

    /// <summary>Publishes refused with <c>unavailable</c> (<see cref="CountFailedPublish"/>, <see cref="PublishLocal"/>).</summary>
    protected long FailedPublishes => Interlocked.Read(ref _failedPublishes);

    /// <summary>How long ago the last outage began.</summary>
    protected TimeSpan Downtime => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _downSinceMs));

    /// <inheritdoc/>
    public void Attach(ITopicSink sink) => _sink = sink ?? throw new ArgumentNullException(nameof(sink));

    /// <inheritdoc/>
    public ValueTask SubscribeAsync(string topic, CancellationToken cancellationToken) => BackplaneTopic.SubscribeAsync(_topics, topic,
        name => CreateTopic(new OrderedDelivery(name, Sink, Delivery, Log, StoreName, _maxPendingPerTopic)), ActivateAsync, cancellationToken);

    /// <inheritdoc/>
    public ValueTask UnsubscribeAsync(string topic, CancellationToken cancellationToken) =>
        BackplaneTopic.UnsubscribeAsync(_topics, topic, StopListeningAsync, cancellationToken);

    /// <inheritdoc/>
    public abstract ValueTask<StreamPosition> PublishAsync(string topic, TopicOptions options, MessageType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);

    /// <inheritdoc/>
    public abstract ValueTask<HistoryRead> ReadAsync(string topic, StreamPosition? since, TopicOptions options, ICollection<TopicMessage> into, CancellationToken cancellationToken);

    /// <summary>
    /// Stops the heartbeat, leaves presence in the store (<see cref="RemoveMemberAsync"/> for each member of this node,
    /// then <see cref="RemoveNodeAsync"/>, when connected), closes every
    /// topic's delivery, then lets the derived class release the store (<see cref="DisposeStoreAsync"/>).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _heartbeat.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (IsConnected)
        {
            try
            {
                await LeaveAllAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (IsStoreFailure(ex))
            {
                Log.LogDebug("{Backplane} backplane: leaving presence at shutdown failed: {Reason}", StoreName, ex.Message);
            }
        }

        List<BackplaneTopic> topics = [.. _topics.Values];
        foreach (BackplaneTopic state in topics)
        {
            lock (state.Delivery.Lock)
            {
                state.Delivery.Close();
            }
        }

        _topics.Clear();
        await DisposeStoreAsync(topics).ConfigureAwait(false);
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The state of a topic that gets its first local subscriber, around its <paramref name="delivery"/>.</summary>
    protected abstract BackplaneTopic CreateTopic(OrderedDelivery delivery);

    /// <summary>
    /// Subscribes to the topic's live path in the store; when it returns, whatever is published after a position read
    /// that follows reaches this node.
    /// </summary>
    protected abstract Task ListenAsync(BackplaneTopic topic);

    /// <summary>Unsubscribes from the topic's live path (its last local subscriber left). Failures of the store are the derived class's to swallow.</summary>
    protected abstract Task StopListeningAsync(BackplaneTopic topic);

    /// <summary>The topic's <see cref="OrderedDelivery.SyncAsync"/> with a reader of the store's stream.</summary>
    protected abstract Task SyncAsync(BackplaneTopic topic);

    /// <summary>True when <paramref name="exception"/> says the store failed (unreachable, timed out) rather than a bug.</summary>
    protected abstract bool IsStoreFailure(Exception exception);

    /// <summary>A request to the store failed with <paramref name="reason"/>: updates <see cref="IsConnected"/> (and <see cref="CountOutage"/>) as the store's client warrants.</summary>
    protected abstract void MarkDown(string reason);

    /// <summary>One round of the heartbeat while <see cref="IsConnected"/>; a store failure it throws is logged and the next round comes.</summary>
    protected abstract Task OnHeartbeatAsync();

    /// <summary>One round of the heartbeat while the store is unreachable (e.g. a recovery to retry); by default nothing.</summary>
    protected virtual Task OnHeartbeatWhileDownAsync() => Task.CompletedTask;

    /// <summary>At the end of <see cref="DisposeAsync"/>: releases the store's client (every delivery of <paramref name="topics"/> is closed).</summary>
    protected abstract ValueTask DisposeStoreAsync(IReadOnlyList<BackplaneTopic> topics);

    /// <summary>Starts the heartbeat: <see cref="OnHeartbeatAsync"/> (or <see cref="OnHeartbeatWhileDownAsync"/>) every <paramref name="period"/> until disposed.</summary>
    protected void StartHeartbeat(TimeSpan period) => _heartbeat = Task.Run(() => HeartbeatLoopAsync(period), CancellationToken.None);

    /// <summary>An epoch no other stream of this node (or, with its random prefix, of another node) has.</summary>
    protected string NextEpoch() => $"{_epochPrefix}{Interlocked.Increment(ref _generation):x}";

    /// <summary>Counts an outage (the store became unreachable) and logs it, once per outage.</summary>
    protected void CountOutage(string reason)
    {
        Interlocked.Increment(ref _outages);
        Interlocked.Exchange(ref _downSinceMs, Environment.TickCount64);
        Log.LogError("{Backplane} backplane: {Store} is unreachable ({Reason}); delivering locally until it is back", StoreName, StoreName, reason);
    }

    /// <summary>Counts a publish refused with <c>unavailable</c> because the store failed while it was in flight.</summary>
    protected void CountFailedPublish() => Interlocked.Increment(ref _failedPublishes);

    /// <summary>
    /// A publish while the store is unreachable: the subscribers of this node get the message at a position of a local
    /// epoch (they were told with a discontinuity when the topic went local), nothing is kept or queued for the store,
    /// and the recovery tells them where the stream is. Without local subscribers there is nobody to deliver to:
    /// refused with <c>unavailable</c>.
    /// </summary>
    protected StreamPosition PublishLocal(string topic, MessageType type, ReadOnlySpan<byte> payload)
    {
        if (!Topics.TryGetValue(topic, out BackplaneTopic? state))
        {
            CountFailedPublish();
            throw new TopicException("unavailable", $"{StoreName} is unreachable and this node has no subscribers of the topic");
        }

        lock (state.Delivery.Lock)
        {
            if (state.Delivery.IsClosed)
            {
                throw new TopicException("unavailable", $"{StoreName} is unreachable and this node has no subscribers of the topic");
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

    /// <summary>
    /// A history read while the store is unreachable: where this node's subscribers of <paramref name="topic"/> are;
    /// only that position (nothing before it) is recovered. Without local subscribers: <c>unavailable</c>.
    /// </summary>
    protected HistoryRead ReadLocal(string topic, StreamPosition? since)
    {
        if (!Topics.TryGetValue(topic, out BackplaneTopic? state))
        {
            throw new TopicException("unavailable", $"{StoreName} is unreachable; the topic '{topic}' cannot be read");
        }

        lock (state.Delivery.Lock)
        {
            if (state.Delivery.Epoch is null && !state.Delivery.IsLocal)
            {
                EnterLocal(state, announce: false);
            }

            StreamPosition current = state.Delivery.Current;
            return new HistoryRead(current, since is { } from && from == current);
        }
    }

    /// <summary>Under the topic's lock: the topic goes on in a new local epoch (announced to its subscribers with a discontinuity when <paramref name="announce"/>).</summary>
    protected void EnterLocal(BackplaneTopic topic, bool announce)
    {
        ArgumentNullException.ThrowIfNull(topic);
        topic.Delivery.EnterLocal($"local-{NodeId}-{NextEpoch()}", announce);
    }

    /// <summary>
    /// Under the topic's lock: runs the topic's <see cref="SyncAsync"/> in the background unless one runs. When the store
    /// fails meanwhile, the sync is abandoned with <see cref="OrderedDelivery.ResyncRequested"/> set (for a heartbeat or
    /// recovery to retry) and <see cref="MarkDown"/> is called.
    /// </summary>
    protected void StartSync(BackplaneTopic topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (!topic.Delivery.TryBeginSync())
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await SyncAsync(topic).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsStoreFailure(ex))
            {
                Log.LogDebug("{Backplane} backplane: sync of '{Topic}' failed, retried after reconnecting: {Reason}", StoreName, topic.Name, ex.Message);
                lock (topic.Delivery.Lock)
                {
                    topic.Delivery.AbandonSync(resync: true);
                }

                MarkDown(ex.Message);
            }
        });
    }

    // The first local subscriber: listen, then learn the stream's position before returning, so the hub's history read
    // that follows is never behind what this node delivers next.
    private async Task ActivateAsync(BackplaneTopic state)
    {
        lock (state.Delivery.Lock)
        {
            state.Delivery.TryBeginSync(); // messages arriving before the position is known wait for it
        }

        if (IsConnected)
        {
            try
            {
                await ListenAsync(state).ConfigureAwait(false);
                await SyncAsync(state).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (IsStoreFailure(ex))
            {
                MarkDown(ex.Message);
            }
        }

        lock (state.Delivery.Lock)
        {
            state.Delivery.AbandonSync(resync: false);
            if (state.Delivery.Epoch is null && !state.Delivery.IsLocal)
            {
                EnterLocal(state, announce: false); // nobody has a position yet; the recovery resets to the stream's
            }
        }
    }

    private async Task HeartbeatLoopAsync(TimeSpan period)
    {
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                if (!IsConnected)
                {
                    await OnHeartbeatWhileDownAsync().ConfigureAwait(false);
                    continue;
                }

                try
                {
                    await OnHeartbeatAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (IsStoreFailure(ex))
                {
                    Log.LogDebug("{Backplane} backplane: heartbeat failed: {Reason}", StoreName, ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
